import type { SseAddressee } from '../addressing/sse-target.js';
import type { SseTransportTarget } from '../interfaces/sse-transport.interface.js';

/** One sent event as a history keeps it: encoded once, with who it was for. */
export interface SseHistoryEntry {
  /** The event's id (the caller's, or a generated one). */
  readonly id: string;
  /** The encoded frame of this one event, exactly the bytes live clients got. */
  readonly frame: Buffer;
  /** Whom the send addressed (names, groups, client ids), so replay can respect it. */
  readonly target: SseTransportTarget;
  /** When it was sent (ms since the epoch), for the time-to-live. */
  readonly sentAt: number;
}

/** Who is asking for a replay: a reconnecting global connection. */
export type SseReplayReader = SseAddressee;

/**
 * What a reconnecting client gets: the frames it missed (possibly none), in
 * order, or a gap when its last id is unknown or no longer held.
 */
export type SseReplay =
  | { readonly kind: 'frames'; readonly frames: readonly Buffer[] }
  | { readonly kind: 'gap'; readonly oldestAvailableId: string | null };

/**
 * Where sent events are kept for `Last-Event-ID` replay, per name. The
 * in-memory default holds this instance's sends; a cluster-wide transport
 * provides one that holds every instance's, in one order.
 *
 * Contract: `append` is called in send order, before the event is written to
 * any live connection; `since` is called synchronously while the reconnecting
 * connection registers, so every event is either in the replay or live, never
 * both and never neither.
 */
export interface SseHistory {
  /** Records one event under every name of its target. */
  append(entry: SseHistoryEntry): void;
  /** The frames addressed to `reader` after the event `lastEventId` of its name. */
  since(reader: SseReplayReader, lastEventId: string): SseReplay;
}

/** Injection token of the `SseHistory` in use. */
export const SseHistory = Symbol('SseHistory');
