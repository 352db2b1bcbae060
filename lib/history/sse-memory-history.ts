import { isAddressedTo } from '../addressing/sse-target.js';
import type { SseHistory, SseHistoryEntry, SseReplay, SseReplayReader } from './sse-history.js';

/** How much history to keep: events per name, and for how long. */
export interface SseHistoryLimits {
  /** Events kept per name; 0 keeps none. */
  size: number;
  /** Milliseconds an event stays replayable. */
  ttl: number;
}

/** The history of one name: a queue of entries, oldest first. */
class SseNameHistory {
  /** Entries from `start` on are live; the prefix is dropped in batches (amortized O(1) eviction). */
  entries: SseHistoryEntry[] = [];
  start = 0;
  /** Position of each held id (the latest, when a caller reuses an id). */
  readonly positions = new Map<string, number>();
  /** Absolute position of `entries[start]`: positions stay valid while the prefix is dropped. */
  firstPosition = 0;
  /** Id of the newest event ever sent to this name, kept after it expires. */
  latestId: string | undefined;

  get length(): number {
    return this.entries.length - this.start;
  }

  push(entry: SseHistoryEntry): void {
    this.positions.set(entry.id, this.firstPosition + this.length);
    this.entries.push(entry);
    this.latestId = entry.id;
  }

  /** Drops the oldest entries beyond `size` and those sent before `expiredBefore`. */
  evict(size: number, expiredBefore: number): void {
    while (this.length > size || (this.length > 0 && this.entries[this.start].sentAt < expiredBefore)) {
      const oldest = this.entries[this.start];
      if (this.positions.get(oldest.id) === this.firstPosition) this.positions.delete(oldest.id);
      this.start++;
      this.firstPosition++;
    }
    if (this.start > 1024 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  get oldestId(): string | null {
    return this.length > 0 ? this.entries[this.start].id : null;
  }
}

/**
 * The default `SseHistory`: this instance's sends, per name, bounded by count
 * and age. Expired entries are dropped lazily (on append and on replay, plus a
 * sweep of every name once per TTL), so it needs no timer.
 */
export class SseMemoryHistory implements SseHistory {
  private readonly names = new Map<string, SseNameHistory>();
  private lastSweep = Date.now();

  constructor(private readonly limits: SseHistoryLimits) {}

  append(entry: SseHistoryEntry): void {
    const expiredBefore = entry.sentAt - this.limits.ttl;
    for (const name of entry.target.names) {
      let history = this.names.get(name);
      if (!history) this.names.set(name, (history = new SseNameHistory()));
      history.push(entry);
      history.evict(this.limits.size, expiredBefore);
    }
    // Names nobody sends to any more would otherwise hold their last events forever.
    if (entry.sentAt - this.lastSweep > this.limits.ttl) {
      this.lastSweep = entry.sentAt;
      for (const history of this.names.values()) history.evict(this.limits.size, expiredBefore);
    }
  }

  since(reader: SseReplayReader, lastEventId: string): SseReplay {
    const history = this.names.get(reader.name);
    // Up to date: nothing was missed, even when that last event has expired since.
    if (history?.latestId === lastEventId) return { kind: 'frames', frames: [] };
    if (!history) return { kind: 'gap', oldestAvailableId: null };
    history.evict(this.limits.size, Date.now() - this.limits.ttl);
    const position = history.positions.get(lastEventId);
    if (position === undefined) return { kind: 'gap', oldestAvailableId: history.oldestId };
    const frames: Buffer[] = [];
    const { entries } = history;
    for (let i = history.start + (position - history.firstPosition) + 1; i < entries.length; i++) {
      if (isAddressedTo(entries[i].target, reader)) frames.push(entries[i].frame);
    }
    return { kind: 'frames', frames };
  }
}
