/**
 * The targets of the benchmark issue, checked against one run's results:
 * each line says what was measured, the bound, and whether it holds.
 */
import { median } from './stats.js';
import type { RunResult } from './measure.js';
import type { SummaryRow } from './summary.js';

const SUBJECT = 'hub-express';

interface Check {
  target: string;
  measured: string;
  holds: boolean | undefined;
}

/** Median over runs of a/b where a and b are two subjects' figures in the same run and scenario. */
function sameRunRatio(results: RunResult[], scenario: string, a: string, b: string, pick: (r: RunResult) => number): number {
  const ratios: number[] = [];
  for (const own of results.filter((r) => r.scenario === scenario && r.subject === a)) {
    const other = results.find((r) => r.scenario === scenario && r.subject === b && r.run === own.run);
    if (other) ratios.push(pick(own) / pick(other));
  }
  return median(ratios);
}

const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'not measured');

export function checkTargets(rows: SummaryRow[], results: RunResult[]): Check[] {
  const checks: Check[] = [];
  const ours = rows.filter((row) => row.subject.key === SUBJECT);
  const bound = (value: number, ok: (v: number) => boolean) => (Number.isFinite(value) ? ok(value) : undefined);
  for (const row of ours.filter((r) => r.scenario.events > 0)) {
    const floor = row.scenario.clients >= 1000 ? 1.0 : 0.9;
    checks.push({
      target: `${row.scenario.label}: events/s ≥ ${floor.toFixed(1)}× node:http`,
      measured: times(row.throughputRatio),
      holds: bound(row.throughputRatio, (v) => v >= floor),
    });
    const eps = (r: RunResult) => r.eventsPerSecond;
    const vsNest = sameRunRatio(results, row.scenario.key, SUBJECT, 'nest-sse', eps);
    checks.push({ target: `${row.scenario.label}: ≥ 5× Nest @Sse()`, measured: times(vsNest), holds: bound(vsNest, (v) => v >= 5) });
    const vsBetter = sameRunRatio(results, row.scenario.key, SUBJECT, 'better-sse', eps);
    checks.push({ target: `${row.scenario.label}: ≥ 2× better-sse`, measured: times(vsBetter), holds: bound(vsBetter, (v) => v >= 2) });
    checks.push({
      target: `${row.scenario.label}: burst latency p99 ≤ node:http's`,
      measured: times(row.p99Ratio),
      holds: bound(row.p99Ratio, (v) => v <= 1),
    });
    checks.push({
      target: `${row.scenario.label}: paced latency p99 ≤ node:http's`,
      measured: times(row.pacedP99Ratio),
      holds: bound(row.pacedP99Ratio, (v) => v <= 1),
    });
    const redis = sameRunRatio(results, row.scenario.key, 'hub-redis', SUBJECT, eps);
    if (Number.isFinite(redis)) {
      checks.push({ target: `${row.scenario.label}: Redis ×2 ≥ 0.5× memory transport`, measured: times(redis), holds: redis >= 0.5 });
    }
  }
  // Not a target, for comparison: the same library on Fastify (no per-response prototype swap).
  for (const row of rows.filter((r) => r.subject.key === 'hub-fastify' && r.scenario.events === 0)) {
    checks.push({
      target: `(Fastify, for comparison) ${row.scenario.label}: RSS per connection ≤ 1.2× node:http`,
      measured: times(row.rssRatio),
      holds: bound(row.rssRatio, (v) => v <= 1.2),
    });
  }
  for (const row of ours.filter((r) => r.scenario.events === 0)) {
    checks.push({
      target: `${row.scenario.label}: RSS per connection ≤ 1.2× node:http`,
      measured: times(row.rssRatio),
      holds: bound(row.rssRatio, (v) => v <= 1.2),
    });
    checks.push({
      target: `${row.scenario.label}: held without errors`,
      measured: `${row.errors} errors${row.notes.length ? `; ${row.notes.join('; ')}` : ''}`,
      holds: row.errors === 0 && row.notes.length === 0,
    });
  }
  return checks;
}

export function targetsTable(rows: SummaryRow[], results: RunResult[]): string {
  const checks = checkTargets(rows, results);
  if (checks.length === 0) return '';
  const verdict = (holds: boolean | undefined) => (holds === undefined ? '–' : holds ? 'holds' : '**misses**');
  return [
    `Targets (nestjs-sse-hub on Express, memory transport, ratios within the same run):`,
    '',
    '| target | measured | |',
    '|---|--:|---|',
    ...checks.map((check) => `| ${check.target} | ${check.measured} | ${verdict(check.holds)} |`),
    '',
  ].join('\n');
}
