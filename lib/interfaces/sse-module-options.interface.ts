import type { SseBroadcastLevel, SseScope } from './sse-broadcast-level.type.js';
import type { SseMetricsOptions } from './sse-metrics-options.interface.js';
import type { SseTransport } from './sse-transport.interface.js';

/** Options of `SseModule.forRoot()` / `forRootAsync()`. */
export interface SseModuleOptions {
  /** Scope of routes that do not set one. Default `'global'`. */
  defaultScope?: SseScope;
  /**
   * Milliseconds the browser waits before reconnecting, sent as `retry:` with
   * every `sse.open` (a route's `retry` wins). Default 3000. It is also the
   * base of the spread `retry:` sent when the server asks clients to come back
   * (see `reconnectSpread`).
   */
  retry?: number;
  /**
   * Whenever the server asks clients to come back later (`sse.close` with
   * reason `overloaded`, `shutdown` or `rotate`), it first sends a `retry:`
   * drawn uniformly from `[base, base + reconnectSpread]` (base: the route's or
   * module's `retry`, 3000 when unset), so that they do not all return at the
   * same moment. Milliseconds; default 5000; 0 sends the base itself.
   */
  reconnectSpread?: number;
  /**
   * What a stream request over `maxConnections` / `maxConnectionsPerName` gets:
   * - `'retry'` (default): a `200` event stream that holds only a spread
   *   `retry:` and `sse.close` `{"reason":"overloaded"}`, then ends (no
   *   `sse.open`; never registered nor counted). A browser's EventSource, and
   *   the `nestjs-sse-hub/client`, come back after that `retry`;
   * - `'reject'`: `503` with `Retry-After` (a plain EventSource then gives up
   *   for good; the client retries after `Retry-After`).
   */
  overload?: 'retry' | 'reject';
  /**
   * Milliseconds after which a connection is closed with a spread `retry:` and
   * `sse.close` `{"reason":"rotate"}`, so that long-lived connections move to
   * instances added since (through the load balancer: the HTTP connection is
   * closed too). Each connection's age varies by ±10 % so that connections
   * opened together do not rotate together. Default: never.
   */
  maxConnectionAge?: number;
  /** Milliseconds between keep-alive comments on an idle connection. Default 15000; 0 turns them off. */
  keepAlive?: number;
  /**
   * Signs client ids (`s:<id>.<HMAC-SHA256>`) so that clients cannot pick
   * another's id. `strict` also binds the signature to the user agent and address.
   */
  signing?: { secret: string; strict?: boolean };
  /** Broadcast level per name, or `'*'` for every name without its own. Default `'name'`. */
  broadcastLevels?: Record<string, SseBroadcastLevel>;
  /**
   * Most connections (both scopes, all names, pending ones included) this
   * instance keeps open. When full, a new request is answered per `overload`
   * before any stream starts: the overload stream (come back after a spread
   * `retry:`), or `503` with `Retry-After` (the route's `retry` in whole
   * seconds, at least 1; 5 without one). A slot is free again the moment its
   * connection closes. A positive integer; default: no limit.
   */
  maxConnections?: number;
  /** Most connections per name this instance keeps open (answered per `overload` when full). Default: no limit. */
  maxConnectionsPerName?: number;
  /**
   * Most connections per user (`@SseConnection({ user })`) this instance keeps
   * open, e.g. tabs. One more gets `429` before any stream starts (an
   * EventSource then stops: a limit that does not clear by itself must not be
   * polled). Connections without a user do not count. Default: no limit.
   */
  maxConnectionsPerUser?: number;
  /**
   * Largest encoded event (its whole frame, in UTF-8 bytes, not counting a
   * generated `id:` line). A larger event makes `send` throw
   * `SseEventTooLargeError` and nothing is sent. Default: no limit.
   */
  maxEventBytes?: number;
  /**
   * What carries sends, closes and queries between instances. Default: a
   * `MemoryTransport` (this instance only). For several instances:
   * `new RedisTransport({ url })` from `nestjs-sse-hub/redis`; give every
   * instance the same SSE options (broadcast levels, signing secret).
   */
  transport?: SseTransport;
  /**
   * `Last-Event-ID` replay. A send is kept in the most specific topics of its
   * target: (name, client id) or (name, user) when it names them, else
   * (name, group) per group, else (name). `size`: events kept per topic
   * (default 1000; 0 turns history off); `ttl`: milliseconds an event stays
   * replayable (default 300000, 5 minutes); `maxTopics`: topics kept (default
   * 10000, least recently sent to forgotten first); `maxBytes`: frame bytes
   * kept in all (default 67108864, 64 MiB; the largest topics lose their
   * oldest events first). A client reconnecting gets every event of its
   * topics it missed; a topic that lost some is named in `sse.gap`.
   */
  history?: { size?: number; ttl?: number; maxTopics?: number; maxBytes?: number };
  /**
   * Unsent bytes a connection may accumulate (a client that reads slower than
   * events are sent) before it is closed so that it cannot grow the server's
   * memory. Default 1048576 (1 MiB). The client reconnects and replays.
   */
  maxBufferedBytes?: number;
  /**
   * Unsent bytes over all connections of this instance (one memory budget).
   * When the sum passes it, the connections with the largest backlogs are
   * dropped first until it is under again (counted in `stats().budgetDisconnects`).
   * Default 67108864 (64 MiB).
   */
  maxTotalBufferedBytes?: number;
  /**
   * Milliseconds a connection may hold unsent bytes without any of them
   * reaching its client before it is closed (counted in `stats().stalledDisconnects`):
   * a client that stopped reading, or a peer that vanished while events were
   * flowing. A client that reads, however slowly, is never closed for it.
   * Checked every quarter of it, so a stall is found within 1.5× the
   * timeout. Default 60000; 0 turns it off. It cannot see a peer that vanished
   * while only keep-alives flowed and the kernel still takes them (see README).
   */
  stallTimeout?: number;
  /**
   * HTTP/1.1 only: write a stream's chunks straight to its socket once its head
   * is out (the bytes `res.write()` would send, at a fraction of its cost on
   * Express). Default true. A response whose `write` someone wrapped (an APM
   * agent, a compression middleware; on a prototype also while the stream is
   * open) goes through `res.write()` from then on. Set false to force that path everywhere:
   * needed for a plain wrapper of `OutgoingMessage.prototype.write` installed
   * before this library loaded, which cannot be told from Node's own.
   */
  directWrites?: boolean;
  /**
   * Gzip every stream whose request accepts it (`Accept-Encoding: gzip`):
   * `Content-Encoding: gzip`, each tick's events compressed once for all their
   * recipients and flushed at once (browsers decode gzip streams event by
   * event), so proxies leave the stream alone. A route's `compression` wins.
   * Worth it for large, repetitive events (JSON dashboards); each event is
   * compressed on its own, so small ones gain little. Default false.
   */
  compression?: boolean;
  /**
   * Milliseconds `app.close()` lets running resumable streams finish (new ones
   * are refused meanwhile); what still runs then is stopped (signal aborted,
   * `sse.close` reason `shutdown`). Default 30 000.
   */
  drainTimeout?: number;
  /**
   * Bytes one resumable stream may record; a stream whose recording would pass
   * it is stopped (`sse.close` reason `stopped`). Recordings are not unsent
   * bytes: they never count toward `maxTotalBufferedBytes`. Default 8 MiB.
   */
  maxRecordedBytes?: number;
  /**
   * OpenTelemetry metrics (README, "Observability"). Default: on whenever
   * `@opentelemetry/api` is installed, through its global meter provider (a
   * no-op until the app registers the SDK), and silently off when it is not.
   * `false` turns them off. `true`, or an object without `meterProvider`,
   * requires `@opentelemetry/api` and fails the start without it.
   */
  metrics?: boolean | SseMetricsOptions;
}
