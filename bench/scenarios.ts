/** What one measurement does: open `clients`, then broadcast `events` (none: idle, memory only). */
export interface Scenario {
  key: string;
  label: string;
  clients: number;
  events: number;
  /** Events broadcast per event-loop turn by the emit loop (burst). */
  batch: number;
  /** Paced phase: one event every this many ms (50,000 deliveries/s in total), for latency. */
  pacedIntervalMs: number;
}

export const SCENARIOS: Scenario[] = [
  { key: '100x1000', label: '100 clients × 1,000 events', clients: 100, events: 1000, batch: 10, pacedIntervalMs: 2 },
  { key: '1000x100', label: '1,000 clients × 100 events', clients: 1000, events: 100, batch: 10, pacedIntervalMs: 20 },
  { key: '5000x20', label: '5,000 clients × 20 events', clients: 5000, events: 20, batch: 10, pacedIntervalMs: 100 },
  { key: 'idle10000', label: '10,000 idle clients', clients: 10000, events: 0, batch: 10, pacedIntervalMs: 0 },
];
