import type { SseScope } from './sse-broadcast-level.type.js';

/** The identity of an open connection. */
export interface SseConnectionInfo {
  /** The name it is registered under. */
  readonly name: string;
  /** Its first group (`groups[0]`), if any; kept for Pode's single-group model. */
  readonly group: string | undefined;
  /** Its groups, in join order (`[]` when none). They change with `join` / `leave`. */
  readonly groups: readonly string[];
  /** The user it belongs to (`@SseConnection({ user })`), if any. */
  readonly user: string | undefined;
  /** Its client id (signed, `s:…`, when signing is enabled). */
  readonly clientId: string;
  /** `'global'` or `'local'`. */
  readonly scope: SseScope;
  /** The `Last-Event-ID` the client sent when it connected, if any. */
  readonly lastEventId: string | undefined;
  /** When the request was converted. */
  readonly connectedAt: Date;
}

/** A connection opened or closed; see `SseHub.events$`, `@OnSseConnect()`, `@OnSseDisconnect()`. */
export interface SseLifecycleEvent {
  type: 'connect' | 'disconnect';
  connection: SseConnectionInfo;
}
