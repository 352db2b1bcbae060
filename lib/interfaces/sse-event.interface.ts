/**
 * One Server-Sent Event (HTML §9.2, https://html.spec.whatwg.org/multipage/server-sent-events.html).
 *
 * `data` that is a string is sent as is, one `data:` line per line (CRLF, CR
 * and LF all split lines, so the browser receives every line break as LF);
 * any other value is sent as its `JSON.stringify`. A string with an unpaired
 * UTF-16 surrogate is refused with `SseInvalidArgumentError` (UTF-8 cannot
 * carry it); inside a JSON value it is escaped and arrives intact.
 */
export interface SseEvent<T = unknown> {
  /** The payload: a string as is (line breaks arrive as LF), anything else JSON-encoded. */
  data: T;
  /** The event type (`event:`); the browser's `message` when absent. No CR, LF or NUL; not `sse.*`. */
  event?: string;
  /**
   * The event id (`id:`) the browser sends back as `Last-Event-ID`. No CR, LF
   * or NUL. When absent on a send to global connections, one is generated:
   * `<generation>-<sequence>` (base 36, fixed width), which compares as a string
   * in send order, also across restarts. With `RedisTransport`: `<ms>-<seq>`
   * (a Redis stream id), in one order for the whole cluster.
   */
  id?: string;
  /** Reconnection delay in milliseconds (`retry:`), a non-negative integer. */
  retry?: number;
}

/**
 * Who receives a send, resolved as Pode does and narrowed by users: every
 * connection of the names, then (when given) only those client ids, only
 * those users' connections, and only connections in at least one of those
 * groups. An empty `group`, `clientId` or `user` array matches nobody.
 */
export interface SseTarget {
  /** One name or several; required. */
  name: string | readonly string[];
  /** Only connections in at least one of these groups. */
  group?: string | readonly string[];
  /** Only these client ids. */
  clientId?: string | readonly string[];
  /** Only the connections of these users (`@SseConnection({ user })`), on every instance. */
  user?: string | readonly string[];
}

/** Options of `SseHub.join` and `ctx.join`. */
export interface SseJoinOptions {
  /**
   * Also sends the connection the last `replay` events of each group it joins
   * (those addressed to it, in send order), without `id:` lines so that the
   * browser's `Last-Event-ID` never moves backwards. Default 0: from now on only.
   */
  replay?: number;
}

/** What `SseHub.send` did. */
export interface SseSendResult {
  /** How many connections the events were written to (0 is not an error). */
  delivered: number;
}
