/**
 * How a history keeps one event (`SseEvent.replay`): `'all'` (the default),
 * `'none'` (delivered live only, never stored), or `'latest'` (only the
 * newest event of its type per topic is kept).
 */
export type SseReplayMode = 'all' | 'none' | 'latest';

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
  /**
   * How the history keeps this event for `Last-Event-ID` replay:
   * - `true` (default): kept, replayed to a client that missed it;
   * - `false`: delivered live only, never stored. It still carries an id of
   *   the same ordered sequence, so a client whose `Last-Event-ID` names it
   *   resumes right after it (found by order; an `id` of your own cannot be
   *   ordered, and resuming from it replays what each topic still holds, after `sse.gap`);
   * - `'latest'`: of the events with this `event` type sent to the same
   *   target, only the newest is kept, in its place in send order, so a
   *   returning client gets the current state once (e.g. a clock, a price, a presence list).
   */
  replay?: boolean | 'latest';
}

/**
 * An event map: the events of a stream, declared once for the server and the
 * browser client, as an object type of event type → payload type (`message`
 * for events without a type). Any object type is one; this alias, the
 * default, leaves sends untyped.
 *
 * @example
 * ```ts
 * export type ChatEvents = { chat: { text: string }; clock: { now: number } };
 * constructor(private readonly hub: SseHub<ChatEvents>) {}
 * // in the browser: connect<ChatEvents>('/events').on('chat', (data) => data.text);
 * ```
 */
export type SseEventMap = object;

/**
 * The events a send may carry given an event map: for each type `K`, an
 * `SseEvent` with `event: K` and `data` of `Events[K]` (`message` events
 * carry no `event`). Untyped (a map with a string index, as the default, or
 * no keys at all, as `app.get(SseHub)` infers): any `SseEvent`.
 */
export type SseEventOf<Events extends object> = [keyof Events] extends [never]
  ? SseEvent<unknown>
  : string extends keyof Events
  ? SseEvent<unknown>
  : {
      [K in keyof Events & string]: K extends 'message'
        ? SseEvent<Events[K]> & { event?: 'message' }
        : Omit<SseEvent<Events[K]>, 'event'> & { event: K };
    }[keyof Events & string];

/** Options of `SseHub.close` and `ctx.close`. */
export interface SseCloseOptions {
  /**
   * `false`: stop for good. `sse.close` carries `"reconnect":false` and an
   * `id:` of its own (a stop token), so that a browser's EventSource, whose
   * reconnect offers that id as `Last-Event-ID`, is answered `204` and stops;
   * a reconnect offering the client id (query or header) gets `204` too, for
   * `history.ttl`, on every instance — unless the route derives client ids
   * with a `clientId` callback (then only the stop token counts). Default
   * `true`: the client may come back.
   */
  reconnect?: boolean;
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
