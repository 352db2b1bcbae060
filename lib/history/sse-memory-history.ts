import { isAddressedTo } from '../addressing/sse-target.js';
import { compareEventIds } from './event-id-order.js';
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
  /** Entries from `start` on are held; slots before it are emptied at once and compacted away in batches. */
  private entries: Array<SseHistoryEntry | undefined> = [];
  private start = 0;
  /** Position of each held id (the latest, when a caller reuses an id). */
  private readonly positions = new Map<string, number>();
  /** Absolute position of `entries[start]`: positions stay valid while the prefix is dropped. */
  private firstPosition = 0;
  /** Id of the newest event ever sent to this name, kept after it expires. */
  latestId: string | undefined;
  /** Id of the newest event dropped (by size or age): a client whose last event it was resumes from the oldest held. */
  newestDroppedId: string | undefined;

  get length(): number {
    return this.entries.length - this.start;
  }

  get oldestId(): string | null {
    return this.length > 0 ? this.entries[this.start]!.id : null;
  }

  push(entry: SseHistoryEntry): void {
    this.positions.set(entry.id, this.firstPosition + this.length);
    this.entries.push(entry);
    this.latestId = entry.id;
  }

  /** Drops the oldest entries beyond `size` and those sent before `expiredBefore`; their frames go at once. */
  evict(size: number, expiredBefore: number): void {
    while (this.length > size || (this.length > 0 && this.entries[this.start]!.sentAt < expiredBefore)) {
      const oldest = this.entries[this.start]!;
      if (this.positions.get(oldest.id) === this.firstPosition) this.positions.delete(oldest.id);
      this.newestDroppedId = oldest.id;
      this.entries[this.start] = undefined;
      this.start++;
      this.firstPosition++;
    }
    // The emptied slots are compacted once they are half the array (amortized O(1) per entry).
    if (this.start > 0 && this.start * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  /** The held entries after `lastEventId`, or undefined when it is neither held nor the newest dropped. */
  after(lastEventId: string): SseHistoryEntry[] | undefined {
    const position = this.positions.get(lastEventId);
    let from: number;
    if (position !== undefined) from = this.start + (position - this.firstPosition) + 1;
    else if (lastEventId === this.newestDroppedId) from = this.start;
    else return undefined;
    return this.entries.slice(from) as SseHistoryEntry[];
  }
}

/**
 * The default `SseHistory`: this instance's sends, per name, bounded by count
 * and age. Expired entries are dropped on append and replay, and by a sweep
 * (an unref'd timer, at most every minute); a name with no event left and no
 * connection is forgotten, so names that come and go leave nothing behind.
 * What a forgotten name held is remembered as one watermark: a client whose
 * last id is at or past it (in id order) missed nothing; before it, `sse.gap`.
 */
export class SseMemoryHistory implements SseHistory {
  private readonly names = new Map<string, SseNameHistory>();
  /** The newest id of every forgotten name, in id order (undefined: none forgotten, or not orderable). */
  private forgottenUpTo: string | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: SseHistoryLimits,
    /** True while `name` has a connection on this instance (its history is then kept). */
    private readonly inUse: (name: string) => boolean = () => false,
  ) {}

  append(entry: SseHistoryEntry): void {
    const expiredBefore = entry.sentAt - this.limits.ttl;
    for (const name of entry.target.names) {
      let history = this.names.get(name);
      if (!history) this.names.set(name, (history = new SseNameHistory()));
      history.push(entry);
      history.evict(this.limits.size, expiredBefore);
    }
    this.sweeper ??= this.startSweeping();
  }

  since(reader: SseReplayReader, lastEventId: string): SseReplay {
    const history = this.names.get(reader.name);
    if (!history) return this.forgottenSince(lastEventId);
    // Up to date: nothing was missed, even when that last event has expired since.
    if (history.latestId === lastEventId) return { kind: 'frames', frames: [] };
    history.evict(this.limits.size, Date.now() - this.limits.ttl);
    const after = history.after(lastEventId);
    if (!after) return { kind: 'gap', oldestAvailableId: history.oldestId };
    const frames: Buffer[] = [];
    for (const entry of after) if (isAddressedTo(entry.target, reader)) frames.push(entry.frame);
    return { kind: 'frames', frames };
  }

  /** Stops the sweep timer (module teardown). */
  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Drops what has expired everywhere and forgets names with nothing left and nobody connected. */
  sweep(now = Date.now()): void {
    const expiredBefore = now - this.limits.ttl;
    for (const [name, history] of this.names) {
      history.evict(this.limits.size, expiredBefore);
      if (history.length > 0 || this.inUse(name)) continue;
      this.names.delete(name);
      this.remember(history.latestId);
    }
  }

  /** A name this history does not hold (never sent to, or forgotten). */
  private forgottenSince(lastEventId: string): SseReplay {
    const order = this.forgottenUpTo === undefined ? undefined : compareEventIds(lastEventId, this.forgottenUpTo);
    return order !== undefined && order >= 0 ? { kind: 'frames', frames: [] } : { kind: 'gap', oldestAvailableId: null };
  }

  private remember(latestId: string | undefined): void {
    if (latestId === undefined) return;
    const order = this.forgottenUpTo === undefined ? 1 : compareEventIds(latestId, this.forgottenUpTo);
    // An id that cannot be ordered leaves the watermark alone: its clients get sse.gap (conservative).
    if (order !== undefined && order > 0) this.forgottenUpTo = latestId;
  }

  private startSweeping(): NodeJS.Timeout {
    const timer = setInterval(() => this.sweep(), Math.max(1_000, Math.min(this.limits.ttl, 60_000)));
    timer.unref();
    return timer;
  }
}
