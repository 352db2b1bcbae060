import { median } from './stats.js';
import type { RunResult } from './measure.js';
import type { Scenario } from './scenarios.js';
import { YARDSTICK, type SubjectSpec } from './subjects/index.js';

/** One subject in one scenario: medians over the runs, and ratios to the yardstick of the same run. */
export interface SummaryRow {
  subject: SubjectSpec;
  scenario: Scenario;
  runs: number;
  eventsPerSecond: number;
  /** Median over runs of (this subject's events/s ÷ node:http's in the same run). */
  throughputRatio: number;
  p50Ms: number;
  p99Ms: number;
  p99Ratio: number;
  maxMs: number;
  pacedP50Ms: number;
  pacedP99Ms: number;
  pacedP99Ratio: number;
  pacedMaxMs: number;
  loaderBusy: number;
  cpuMicrosPerEvent: number;
  rssPerConnection: number;
  rssRatio: number;
  heapPerConnection: number;
  lost: number;
  outOfOrder: number;
  errors: number;
  notes: string[];
}

/** For each run of `own`, its value ÷ that of `yardstick` in the same run. */
export function ratios(own: RunResult[], yardstick: RunResult[], pick: (r: RunResult) => number): number[] {
  return own.map((result) => {
    const base = yardstick.find((y) => y.run === result.run);
    return base ? pick(result) / pick(base) : NaN;
  });
}

export function summarize(results: RunResult[], subjects: SubjectSpec[], scenarios: Scenario[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const scenario of scenarios) {
    const yardstick = results.filter((r) => r.scenario === scenario.key && r.subject === YARDSTICK);
    for (const subject of subjects) {
      const own = results.filter((r) => r.scenario === scenario.key && r.subject === subject.key);
      if (own.length === 0) continue;
      const m = (pick: (r: RunResult) => number) => median(own.map(pick));
      rows.push({
        subject,
        scenario,
        runs: own.length,
        eventsPerSecond: m((r) => r.eventsPerSecond),
        throughputRatio: median(ratios(own, yardstick, (r) => r.eventsPerSecond)),
        p50Ms: m((r) => r.p50Ms),
        p99Ms: m((r) => r.p99Ms),
        p99Ratio: median(ratios(own, yardstick, (r) => r.p99Ms)),
        maxMs: m((r) => r.maxMs),
        pacedP50Ms: m((r) => r.pacedP50Ms),
        pacedP99Ms: m((r) => r.pacedP99Ms),
        pacedP99Ratio: median(ratios(own, yardstick, (r) => r.pacedP99Ms)),
        pacedMaxMs: m((r) => r.pacedMaxMs),
        loaderBusy: m((r) => r.loaderBusy),
        cpuMicrosPerEvent: m((r) => r.cpuMicrosPerEvent),
        rssPerConnection: m((r) => r.rssPerConnection),
        rssRatio: median(ratios(own, yardstick, (r) => r.rssPerConnection)),
        heapPerConnection: m((r) => r.heapPerConnection),
        // Loss, disorder and errors are summed, not medianed: any one is a failure.
        lost: own.reduce((a, r) => a + r.lost, 0),
        outOfOrder: own.reduce((a, r) => a + r.outOfOrder, 0),
        errors: own.reduce((a, r) => a + r.errors, 0),
        notes: own.filter((r) => r.note).map((r) => `run ${r.run}: ${r.note}`),
      });
    }
  }
  return rows;
}
