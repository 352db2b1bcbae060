import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Attributes, MeterProvider } from '@opentelemetry/api';
import { SseSettings } from '../config/sse-settings.js';
import { SseConnectionRegistry } from '../connection/sse-connection.registry.js';
import { SseCounters } from '../delivery/sse-counters.js';
import { loadOpenTelemetry } from './load-opentelemetry.js';
import { bindOpenTelemetry } from './sse-opentelemetry.binding.js';
import { SSE_METRIC_ATTRIBUTES as A } from './sse-instruments.js';

/**
 * Binds the hub's OpenTelemetry instruments at start-up (option `metrics`) and
 * unbinds them at shutdown. The API is loaded here, lazily, so the core never
 * imports it: without it (and without `metrics` set) this does nothing.
 */
@Injectable()
export class SseMetrics implements OnModuleInit, OnApplicationShutdown {
  private unbind: (() => void) | undefined;

  constructor(
    private readonly settings: SseSettings,
    private readonly counters: SseCounters,
    private readonly registry: SseConnectionRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    const { mode, meterProvider } = this.settings.metrics;
    if (mode === 'off') return;
    // An app's own provider needs nothing of the API; the global one is the API's.
    const provider = (meterProvider as MeterProvider | undefined) ?? (await loadOpenTelemetry(mode))?.metrics.getMeterProvider();
    if (!provider) return;
    this.unbind = bindOpenTelemetry(provider, { counters: this.counters, connections: (report) => this.connections(report) });
  }

  onApplicationShutdown(): void {
    this.unbind?.();
    this.unbind = undefined;
  }

  /** Open connections by scope (and name when by name), read off the registry on each collection. */
  private connections(report: (count: number, attributes: Attributes) => void): void {
    const { registry, counters } = this;
    if (!counters.byName) {
      const global = registry.size;
      report(global, { [A.scope]: 'global' });
      report(registry.open.size - global, { [A.scope]: 'local' });
      return;
    }
    const counts = new Map<string, { scope: string; name: string; count: number }>();
    for (const connection of registry.open) {
      const name = counters.labelFor(connection.name)!;
      const key = `${connection.scope}\u0000${name}`;
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { scope: connection.scope, name, count: 1 });
    }
    for (const { scope, name, count } of counts.values()) report(count, { [A.scope]: scope, [A.name]: name });
  }
}
