import type { SseBroadcastLevel, SseScope } from './sse-broadcast-level.type.js';
import type { SseTransport } from './sse-transport.interface.js';

/** Options of `SseModule.forRoot()` / `forRootAsync()`. */
export interface SseModuleOptions {
  /** Scope of routes that do not set one. Default `'global'`. */
  defaultScope?: SseScope;
  /** Milliseconds the browser waits before reconnecting, sent as `retry:` on open. */
  retry?: number;
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
   * What carries sends, closes and queries between instances. Default: a
   * `MemoryTransport` (this instance only). For several instances:
   * `new RedisTransport({ url })` from `nestjs-sse-hub/redis`; give every
   * instance the same SSE options (broadcast levels, signing secret).
   */
  transport?: SseTransport;
  /**
   * `Last-Event-ID` replay: how many events are kept per name (default 1000;
   * 0 turns history off) and for how many milliseconds (default 300000, 5 minutes).
   * A client reconnecting within that window gets every event it missed;
   * otherwise it gets `sse.gap`.
   */
  history?: { size?: number; ttl?: number };
  /**
   * Unsent bytes a connection may accumulate (a client that reads slower than
   * events are sent) before it is closed so that it cannot grow the server's
   * memory. Default 1048576 (1 MiB). The client reconnects and replays.
   */
  maxBufferedBytes?: number;
}
