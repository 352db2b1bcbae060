import type { SseBroadcastLevel, SseScope } from './sse-broadcast-level.type.js';

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
   * Most connections (both scopes, all names, pending ones included) this
   * instance keeps open. When full, a new request gets `503` with `Retry-After`
   * (the route's `retry` in whole seconds, at least 1; 5 without one) before any
   * stream starts; a slot is free again the moment its connection closes.
   * A positive integer; default: no limit. Note that a browser's EventSource
   * does not retry after a 503: its `onerror` fires and it stays closed.
   */
  maxConnections?: number;
  /** Most connections per name this instance keeps open (`503` + `Retry-After` when full). Default: no limit. */
  maxConnectionsPerName?: number;
  /**
   * Largest encoded event (its whole frame, in UTF-8 bytes). A larger event
   * makes `send` throw `SseEventTooLargeError` and nothing is sent. Default: no limit.
   */
  maxEventBytes?: number;
}
