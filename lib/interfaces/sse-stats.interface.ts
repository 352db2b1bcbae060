/**
 * Counters of this instance since it started (`SseHub.stats()`), the
 * counterpart of Pode's `Get-PodeServerActiveSse*Metric`, and more.
 */
export interface SseStats {
  /** Open connections of both scopes on this instance. */
  connections: number;
  /** Open global connections per name on this instance (names without any are absent). */
  connectionsByName: Record<string, number>;
  /** Events accepted by `SseHub.send` and `ctx.send`, each counted once however many clients got it. */
  eventsSent: number;
  /** Bytes handed to client sockets: every recipient's copy, protocol frames, replays and keep-alives. */
  bytesWritten: number;
  /** Connections dropped because their unsent bytes exceeded `maxBufferedBytes`. */
  slowClientDisconnects: number;
  /** Connections dropped (largest backlog first) because all unsent bytes together exceeded `maxTotalBufferedBytes`. */
  budgetDisconnects: number;
  /** Connections closed because their unsent bytes did not drain for `stallTimeout`. */
  stalledDisconnects: number;
  /** Reconnections with a `Last-Event-ID` that were resumed from history (with zero or more events). */
  replaysServed: number;
  /** Reconnections whose `Last-Event-ID` was unknown or expired, answered with `sse.gap`. */
  gapsSignalled: number;
  /** Sends the transport rejected (`SseTransportError`): delivered nowhere. */
  transportErrors: number;
  /** Values of `SseHub.to()` streams that could not be sent for another reason (a bad event), and streams that ended with an error. */
  streamErrors: number;
}
