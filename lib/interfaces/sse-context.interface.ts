import type { SseConnectionInfo } from './sse-connection-info.interface.js';
import type { SseEvent, SseJoinOptions } from './sse-event.interface.js';

/**
 * One connection, as a handler sees it through `@SseContext()`: on the
 * `@SseConnection()` route itself, or on an ordinary route that names an open
 * connection with the `X-Sse-Name` and `X-Sse-Client-Id` headers.
 */
export interface SseContext extends SseConnectionInfo {
  /**
   * Sends to this connection only; rejects with `SseConnectionClosedError` once it is closed.
   * On a global connection the events get ids and are kept in the name's history
   * for this client id, so a reconnect with `Last-Event-ID` replays them.
   */
  send<T>(event: SseEvent<T> | SseEvent<T>[]): Promise<void>;
  /** Sends `sse.close` and ends the response. Closing twice is harmless. */
  close(): Promise<void>;
  /**
   * Adds this connection to groups (one or several): sends to them reach it
   * from now on. Resolves once every instance sees the change. A global
   * connection only (`SseInvalidArgumentError` on a local one); it lasts as
   * long as the connection (a reconnect gets the route's `group` again).
   */
  join(groups: string | readonly string[], options?: SseJoinOptions): Promise<void>;
  /** Takes this connection out of groups; a group disappears with its last member. */
  leave(groups: string | readonly string[]): Promise<void>;
}
