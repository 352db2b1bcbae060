/** Options of `SseHealthIndicator.isReady`. */
export interface SseHealthOptions {
  /**
   * Down when this instance holds more open connections (both scopes) than
   * this, so a load balancer sends new clients elsewhere. Default: no limit.
   */
  maxConnections?: number;
  /** Milliseconds to wait for the transport to answer its ping (Redis: a PING). Default 1000. */
  timeout?: number;
}
