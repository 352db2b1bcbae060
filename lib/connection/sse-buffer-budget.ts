import { Injectable } from '@nestjs/common';
import { SseSettings } from '../config/sse-settings.js';
import { SseCounters } from '../delivery/sse-counters.js';

/** A connection as the budget sees it. */
export interface SseBacklogHolder {
  /** Bytes written to it that have not reached the kernel yet. */
  readonly unsentBytes: number;
  /** Drops it at once (its backlog goes with it). */
  dropOverBudget(): void;
}

/**
 * One memory budget for the whole instance (`maxTotalBufferedBytes`): the sum
 * of unsent bytes over all connections. Only connections with a backlog (a
 * write that answered "past the high-water mark") are tracked, from the moment
 * they fall behind until they drain or close; the running total is kept from
 * what each reported, and re-read from the sockets before anyone is dropped.
 * Over budget, the largest backlogs go first until the total is under again.
 */
@Injectable()
export class SseBufferBudget {
  private readonly backlogs = new Map<SseBacklogHolder, number>();
  private total = 0;
  private readonly limit: number;

  constructor(
    settings: SseSettings,
    private readonly counters: SseCounters,
  ) {
    this.limit = settings.maxTotalBufferedBytes;
  }

  /** `holder` is behind with `unsentBytes` waiting. */
  behind(holder: SseBacklogHolder, unsentBytes: number): void {
    this.total += unsentBytes - (this.backlogs.get(holder) ?? 0);
    this.backlogs.set(holder, unsentBytes);
    if (this.total > this.limit) this.enforce();
  }

  /** `holder` drained its backlog, or closed. */
  caughtUp(holder: SseBacklogHolder): void {
    const bytes = this.backlogs.get(holder);
    if (bytes === undefined) return;
    this.backlogs.delete(holder);
    this.total -= bytes;
  }

  /** Unsent bytes of the connections that are behind, as last reported. */
  get backlogBytes(): number {
    return this.total;
  }

  private enforce(): void {
    // What was reported may have drained since: re-read before dropping anyone.
    this.total = 0;
    for (const holder of this.backlogs.keys()) {
      const bytes = holder.unsentBytes;
      this.backlogs.set(holder, bytes);
      this.total += bytes;
    }
    if (this.total <= this.limit) return;
    const largestFirst = [...this.backlogs].sort((a, b) => b[1] - a[1]);
    for (const [holder] of largestFirst) {
      if (this.total <= this.limit) break;
      this.counters.overBudgetDropped();
      // Closing reports back through caughtUp(), which lowers the total.
      holder.dropOverBudget();
    }
  }
}
