/**
 * The sample's event map: what the server sends on the `events` connection,
 * declared once. The server sends through `SseHub<SampleEvents>` (checked by
 * the compiler); the page reads the same names with `nestjs-sse-hub/client`
 * (its JSDoc types it with this map).
 */
export type SampleEvents = {
  clock: ServerStats;
  chat: ChatMessage;
  notice: Notice;
};

/** What the clock / server-stats panel shows. */
export interface ServerStats {
  now: string;
  uptimeSeconds: number;
  connections: number;
  rooms: string[];
  rssMiB: number;
}

/** A chat line, sent to one room (group). */
export interface ChatMessage {
  room: string;
  /** The sender's client id. */
  from: string;
  /** The sender's user, when signed in. */
  user?: string;
  text: string;
  at: string;
}

/** A private notification, to one client id or to every tab of one user. */
export interface Notice {
  text: string;
  at: string;
}
