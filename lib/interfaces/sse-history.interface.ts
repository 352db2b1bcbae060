import type { SseTransportTarget } from './sse-transport-target.interface.js';
import type { SseReplayMode } from './sse-event.interface.js';

/** One sent event as a history keeps it: encoded once, with who it was for. */
export interface SseHistoryEntry {
  /** The event's id (the caller's, or a generated one). */
  readonly id: string;
  /** The encoded frame of this one event (its `id:` line first), exactly the bytes live clients got. */
  readonly frame: Buffer;
  /** Whom the send addressed (names, groups, client ids, users), so replay can respect it. */
  readonly target: SseTransportTarget;
  /** When it was sent (ms since the epoch), for the time-to-live. */
  readonly sentAt: number;
  /** Its place in its name's order, when the transport gives one (Redis: `ms-seq`). */
  readonly order?: string;
  /**
   * How it is kept (`SseEvent.replay`; default `'all'`). `'none'`: not stored,
   * but its id still marks a position (a client that saw it resumes after it,
   * by order). `'latest'`: it replaces the previous `'latest'` event of the same
   * `type` in each of its topics.
   */
  readonly mode?: SseReplayMode;
  /** Its `event` type (`message` when none); read for `'latest'`. */
  readonly type?: string;
}

/** Who is asking for a replay: a reconnecting global connection (its groups as its route gives them now). */
export interface SseReplayReader {
  readonly name: string;
  readonly groups: readonly string[];
  readonly clientId: string;
  readonly user: string | undefined;
}

/**
 * A topic of a connection, as `sse.gap` names it: its name's broadcasts
 * (`{ name }`), one of its groups, its user, or its own client id.
 */
export type SseTopicRef = { readonly name: string } | { readonly group: string } | { readonly user: string } | { readonly clientId: string };

/** What a reconnecting client gets. */
export interface SseReplay {
  /** Its topics that lost events it needed (`sse.gap` is sent first when any did). */
  readonly lostTopics: readonly SseTopicRef[];
  /** The oldest id its topics still hold, or null. */
  readonly oldestAvailableId: string | null;
  /** What it missed that is still held, in send order, each once. */
  readonly frames: readonly Buffer[];
  /**
   * True for a live event (by its place in the name's order) that this replay
   * already covered. Set by a history read apart from the live feed (Redis),
   * whose feed may bring such an event after the replay was written; the
   * connection then skips it, so that nothing arrives twice.
   */
  readonly covers?: (order: string) => boolean;
}

/**
 * Where sent events are kept for `Last-Event-ID` replay. A send is kept in the
 * most specific topics of its target — (name, client id) or (name, user) when
 * it names those, else (name, group) per group, else (name) — so busy rooms
 * cannot push a user's private events out of the window.
 *
 * Contract: `append` is called in send order, before the event is written to
 * any live connection; `since` is called synchronously while the reconnecting
 * connection registers, so every event is either in the replay or live, never
 * both and never neither.
 */
export interface SseHistory {
  /** Records one event in the topics of its target (a history kept elsewhere may only note it). */
  append(entry: SseHistoryEntry): void;
  /**
   * Optional: gets ready to answer `since` for `reader` (a history kept
   * elsewhere fetches what it missed); `since` is then answered from that and
   * from what was appended meanwhile. Never rejects.
   */
  prepare?(reader: SseReplayReader, lastEventId: string): Promise<void>;
  /** What `reader` missed after `lastEventId`, from every topic it belongs to now. */
  since(reader: SseReplayReader, lastEventId: string): SseReplay;
  /** Optional: lets go of what `prepare` kept for a reader that never asked (it closed before opening). */
  release?(reader: SseReplayReader): void;
  /** The last `count` events of `group` addressed to `reader`, oldest first, as frames without their `id:` line. */
  recent(reader: SseReplayReader, group: string, count: number): Buffer[] | Promise<Buffer[]>;
}
