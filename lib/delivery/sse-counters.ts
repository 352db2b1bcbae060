import { Injectable } from '@nestjs/common';
import { SseSettings } from '../config/sse-settings.js';
import { nameLabeler } from '../metrics/sse-metric-labels.js';
import type { SseStats } from '../interfaces/sse-stats.interface.js';

/** The counters of `SseStats` that are not read off the registry. */
export type SseCounterValues = Omit<SseStats, 'connections' | 'connectionsByName'>;

/** What is also counted per `sse.name` attribute when metrics are by name. */
export interface SseNamedCounts {
  eventsSent: number;
  replaysServed: number;
  gapsSignalled: number;
}

/**
 * The one owner of this instance's counters, read by `SseHub.stats()` and by
 * the OpenTelemetry instruments alike: every other part reports what happened
 * through a method here and never writes a counter itself. Nothing here is
 * per recipient: a send is counted once, bytes are added per write.
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
    transportErrors: 0,
    streamErrors: 0,
  };
  /** Per `sse.name` attribute; stays empty unless metrics are by name. */
  private readonly named = new Map<string, SseNamedCounts>();
  private readonly labelOf: ((name: string) => string) | undefined;
  private durationListener: ((seconds: number) => void) | undefined;

  constructor(settings: SseSettings) {
    this.labelOf = settings.metrics.mode === 'off' ? undefined : nameLabeler(settings.metrics.byName);
  }

  /** `count` events were accepted for sending to `names` (once per send, however many recipients). */
  eventsAccepted(count: number, names: string | readonly string[]): void {
    this.values.eventsSent += count;
    if (!this.labelOf) return;
    // A send to several names counts under each of them.
    if (typeof names === 'string') this.countsOf(names).eventsSent += count;
    else for (const name of names) this.countsOf(name).eventsSent += count;
  }

  /** A send was accepted by the transport `seconds` after `SseHub.send` was called. */
  sent(count: number, names: readonly string[], seconds: number): void {
    this.eventsAccepted(count, names);
    this.durationListener?.(seconds);
  }

  /** The transport rejected a send: it was delivered nowhere. */
  transportFailed(): void {
    this.values.transportErrors++;
  }

  /** A value of an `SseHub.to()` stream could not be sent (other than by the transport), or the stream errored. */
  streamFailed(): void {
    this.values.streamErrors++;
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

  /** A reconnection under `name` resumed from history (`gap` false) or got `sse.gap` (`gap` true). */
  resumed(gap: boolean, name: string): void {
    if (gap) this.values.gapsSignalled++;
    else this.values.replaysServed++;
    if (!this.labelOf) return;
    const counts = this.countsOf(name);
    if (gap) counts.gapsSignalled++;
    else counts.replaysServed++;
  }

  /** Calls `listener` with the duration of every accepted send (the metrics' histogram); undefined stops it. */
  onSendDuration(listener: ((seconds: number) => void) | undefined): void {
    this.durationListener = listener;
  }

  /** True when metrics carry `sse.name` (`metrics.byName`). */
  get byName(): boolean {
    return this.labelOf !== undefined;
  }

  /** The `sse.name` attribute of a name, or undefined when metrics are not by name. */
  labelFor(name: string): string | undefined {
    return this.labelOf?.(name);
  }

  /** A copy of the values. */
  snapshot(): SseCounterValues {
    return { ...this.values };
  }

  /** The per-name counts, by `sse.name` attribute (empty unless metrics are by name). */
  namedCounts(): ReadonlyMap<string, Readonly<SseNamedCounts>> {
    return this.named;
  }

  private countsOf(name: string): SseNamedCounts {
    const label = this.labelOf!(name);
    let counts = this.named.get(label);
    if (!counts) this.named.set(label, (counts = { eventsSent: 0, replaysServed: 0, gapsSignalled: 0 }));
    return counts;
  }
}
