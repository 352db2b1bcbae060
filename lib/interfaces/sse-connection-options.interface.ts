import type { SseScope } from './sse-broadcast-level.type.js';

/**
 * The parts of the platform's request object (Express `Request` or Fastify
 * `FastifyRequest`, the same object `@Req()` gives) that work the same on both.
 * Type a `group` or `clientId` callback's parameter with it for code that runs
 * on either platform.
 *
 * @example
 * ```ts
 * // ?room=lobby joins group "lobby"; no room, or a repeated one, joins none.
 * const room = (req: SseRequest) => (typeof req.query.room === 'string' ? req.query.room : undefined);
 * ```
 */
export interface SseRequest {
  /** Request headers, names in lower case (Node's `IncomingHttpHeaders`). */
  headers: Record<string, string | string[] | undefined>;
  /**
   * The parsed query string. With the platforms' default parsers (Express 5's
   * `'simple'`, Fastify's) a parameter given once is a string and one given
   * several times an array of strings: `?room=a&room=b` gives `['a', 'b']`.
   * (Express's `'extended'` query parser, if you turn it on, can also give objects.)
   */
  query: Record<string, string | string[] | undefined>;
  /** Anything else the platform or your middleware put there (`body`, `user`, `ip`, …). */
  [key: string]: unknown;
}

/**
 * Options of a resumable stream (`@SseConnection({ resumable })`; README,
 * "Streaming an answer").
 */
export interface SseResumableOptions<TRequest = any> {
  /** Milliseconds the recording is kept after the stream ends, for late follows. Default 10 minutes. */
  ttl?: number;
  /**
   * The stream's id, from the request (e.g. a conversation id); default 128
   * random bits, which cannot be guessed. An id running or recorded under the
   * route's name answers 409 before the stream opens; an invalid one 400.
   */
  id?: (request: TRequest) => string;
  /** Milliseconds the handler may run; past it the stream is stopped (reason `stopped`). Default 1 hour. */
  maxDuration?: number;
}

/**
 * Options of `@SseConnection()`.
 *
 * `TRequest` is the type of the request the `group` and `clientId` callbacks
 * receive. It is left open (`any`) so that a callback may annotate its
 * parameter with `SseRequest`, Express's `Request` or a `FastifyRequest`:
 * a narrower default would refuse the platform types (Fastify's `query` is
 * `unknown`, Express's a `ParsedQs`).
 */
export interface SseConnectionOptions<TRequest = any> {
  /** The name the connection is registered under, e.g. `'events'`. */
  name: string;
  /** `'global'` (stays open, addressable) or `'local'` (closes when the handler is done). Default: the module's `defaultScope`. */
  scope?: SseScope;
  /**
   * The groups (chat rooms, tenants) the connection starts in: fixed, or
   * derived from the request at every (re)connect — e.g. a user's rooms from
   * the database, since `join` / `leave` change live connections only. An
   * invalid derived group answers 400.
   */
  group?: string | readonly string[] | ((request: TRequest) => string | readonly string[] | undefined | Promise<string | readonly string[] | undefined>);
  /**
   * The user the connection belongs to (e.g. `req.user.id` set by a guard),
   * so that `send({ name, user })` reaches all of a user's tabs and devices.
   * Client ids stay per connection: a user's second tab never replaces the first.
   */
  user?: (request: TRequest) => string | undefined;
  /** `retry:` sent on open, overriding the module's `retry`. */
  retry?: number;
  /**
   * Derives the client id from the request. It wins over an id the client
   * offers; it is signed when signing is enabled. A second connection with the
   * same id replaces the first (Pode's replace-on-reconnect): for "every tab
   * of a user" use `user` instead.
   */
  clientId?: (request: TRequest) => string | undefined;
  /** Sends `Access-Control-Allow-Origin: *`. Default false: configure CORS with `app.enableCors()` instead. */
  allowAllOrigins?: boolean;
  /** Gzips this route's streams when the request accepts gzip, overriding the module's `compression` (README, "Compression"). */
  compression?: boolean;
  /**
   * Makes this `scope: 'local'` route (GET or POST) a resumable stream: its
   * events get ids from the library and are recorded (until `ttl` after the
   * end), its handler runs to the end even when its client leaves (only
   * `SseHub.stopStream`, `maxDuration`, `maxRecordedBytes` or shutdown stop
   * it), and other requests can follow it by its id (`follow`). The id goes
   * out in `sse.open`'s data (`streamId`) and the `X-Sse-Stream-Id` header.
   * A handler may not set event ids.
   */
  resumable?: boolean | SseResumableOptions<TRequest>;
  /**
   * Makes this GET route follow a resumable stream of the same `name`: the
   * stream id from the request (404 when unknown, expired or undefined). The
   * connection (local, not addressable) gets the stream's events from the
   * start, or after its `Last-Event-ID` exactly (`sse.gap` and then all when
   * that id is not in the stream), then the live ones until the stream ends.
   * The handler is not called: guards decide who may follow.
   */
  follow?: (request: TRequest) => string | undefined;
}
