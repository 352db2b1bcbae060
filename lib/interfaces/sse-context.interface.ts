import type { SseConnectionInfo } from './sse-connection-info.interface.js';
import type { SseCloseOptions, SseEventMap, SseEventOf, SseJoinOptions } from './sse-event.interface.js';

/**
 * One connection, as a handler sees it through `@SseContext()`: on the
 * `@SseConnection()` route itself, or on an ordinary route that names an open
 * connection with the `X-Sse-Name` and `X-Sse-Client-Id` headers.
 *
 * `Events` (an event map, see `SseEventMap`) types what `send` accepts:
 * `@SseContext() ctx: SseContext<ChatEvents>`.
 */
export interface SseContext<Events extends object = SseEventMap> extends SseConnectionInfo {
  /**
   * Aborted (with `abort()` and no reason, so `fetch` rejects with an
   * `AbortError`) when the handler's work is no longer wanted: for an ordinary
   * stream when its connection closes (client gone, `close()`, shutdown); for a
   * resumable stream only when it is stopped (`SseHub.stopStream`,
   * `maxDuration`, `maxRecordedBytes`, shutdown), never because its client left.
   * Hand it to `fetch` or a model SDK. A handler that fails after its signal
   * was aborted is not an error: no `sse.error`, nothing logged, whatever it throws.
   * (On a context found on another instance it is never aborted.)
   */
  readonly signal: AbortSignal;
  /** The id of the resumable stream this handler produces (`resumable` routes), else undefined. */
  readonly streamId?: string;
  /**
   * Sends to this connection only; rejects with `SseConnectionClosedError` once it is closed.
   * On a global connection the events get ids and are kept in the name's history
   * for this client id, so a reconnect with `Last-Event-ID` replays them.
   */
  send<TEvent extends SseEventOf<Events>>(event: TEvent | readonly TEvent[]): Promise<void>;
  /**
   * Sends `sse.close` and ends the response. Closing twice is harmless. With
   * `{ reconnect: false }` the client is stopped for good (see `SseCloseOptions`).
   */
  close(options?: SseCloseOptions): Promise<void>;
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
