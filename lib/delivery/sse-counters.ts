import { Injectable } from '@nestjs/common';
import type { SseStats } from '../interfaces/sse-stats.interface.js';

/** The counters of `SseStats` that are not read off the registry. */
export type SseCounterValues = Omit<SseStats, 'connections' | 'connectionsByName'>;

/**
 * The one owner of this instance's counters (`SseHub.stats()`): every other
 * part reports what happened through a method here and never writes a
 * counter itself.
 */
@Injectable()
export class SseCounters {
  private readonly values: SseCounterValues = {
    eventsSent: 0,
    bytesWritten: 0,
    slowClientDisconnects: 0,
    budgetDisconnects: 0,
    stalledDisconnects: 0,
    replaysServed: 0,
    gapsSignalled: 0,
  };

  /** `count` events were accepted for sending (once per send, however many recipients). */
  eventsAccepted(count: number): void {
    this.values.eventsSent += count;
  }

  /** `bytes` were handed to a client's socket. */
  bytesWritten(bytes: number): void {
    this.values.bytesWritten += bytes;
  }

  /** A connection was dropped for reading too slowly. */
  slowClientDropped(): void {
    this.values.slowClientDisconnects++;
  }

  /** A connection was dropped to bring all unsent bytes under the budget. */
  overBudgetDropped(): void {
    this.values.budgetDisconnects++;
  }

  /** A connection was closed because its backlog stopped draining. */
  stallDropped(): void {
    this.values.stalledDisconnects++;
  }

  /** A reconnection resumed from history (`gap` false) or got `sse.gap` (`gap` true). */
  resumed(gap: boolean): void {
    if (gap) this.values.gapsSignalled++;
    else this.values.replaysServed++;
  }

  /** A copy of the values. */
  snapshot(): SseCounterValues {
    return { ...this.values };
  }
}
