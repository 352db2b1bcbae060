/**
 * The response side of one stream, for one HTTP version: how bytes reach the
 * client, how much waits unsent, and whether the response is still ours.
 * `Http1Channel` and `Http2Channel` implement it; an exchange holds one.
 */
export interface SseResponseChannel {
  /** Headers this protocol adds to a stream's head (`Connection: keep-alive` on HTTP/1.1 only). */
  readonly streamHeaders: Readonly<Record<string, string>>;
  /** Sets what a long-lived stream needs of its socket or HTTP/2 stream (no idle timeout, no Nagle delay). */
  prepare(): void;
  /**
   * Writes one chunk. Returns false when the unsent bytes have reached the
   * high-water mark (wait with `whenWritable()`), whatever path the bytes took.
   * `callback` learns whether this write failed (a dead peer).
   */
  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean;
  /** Unsent bytes from which `write` answers false. */
  readonly highWaterMark: number;
  /** Bytes written but not yet handed to the kernel. */
  readonly unsentBytes: number;
  /** Bytes handed to the kernel so far (a running count that moves on whenever the client reads). */
  readonly sentBytes: number;
  /** True while more writes would pile up in memory (past the high-water mark). */
  readonly needsDrain: boolean;
  /** Resolves once the unsent bytes have drained, or the response closed. */
  whenWritable(): Promise<void>;
  /** True once the response can take no more bytes from us: ended (by anyone), destroyed, or its socket moved on. */
  readonly isFinished: boolean;
  /**
   * Sets what runs once the response has ended, by us or by anyone else (an
   * exception filter, a timeout interceptor), as soon as it is known: on
   * HTTP/1.1 at the `end()` call, even while bytes still wait for the client.
   * One listener (the connection's).
   */
  onEnd(listener: () => void): void;
  /** Ends the response (after a last chunk, if given). */
  end(chunk?: Buffer): void;
  /**
   * Lets the HTTP connection go with this response (call it before `end`), so
   * that the client's next request goes through the load balancer again:
   * `Connection: close` or a closed socket on HTTP/1.1, GOAWAY on HTTP/2
   * (the session's other streams go on; new ones go to a new connection).
   */
  closeConnection(): void;
  /** Drops the connection at once (a client too slow to read a goodbye). */
  destroy(): void;
}
