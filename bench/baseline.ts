/**
 * `npm run bench -- --baseline <git-rev>`: that revision's lib/, compiled the
 * way the bench compiles ours, measured side by side with it in the same run
 * as the "(baseline)" subjects, so that a change to lib/ shows its before and
 * after on the same machine under the same load.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ratio, thousands } from './report.js';
import { median } from './stats.js';
import { ratios } from './summary.js';
import type { RunResult } from './measure.js';
import type { Scenario } from './scenarios.js';
import type { SubjectSpec } from './subjects/index.js';

// .bench-build/bench/baseline.js → .bench-build/baseline/lib/index.js (npm run bench empties .bench-build first).
const OUT_DIR = fileURLToPath(new URL('../baseline', import.meta.url));
const BASELINE_ENTRY = path.join(OUT_DIR, 'lib/index.js');
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** True once `buildBaseline` has compiled a revision in this run. */
export const hasBaseline = (): boolean => existsSync(BASELINE_ENTRY);

/**
 * Checks `rev` out into a temporary git worktree (removed again), compiles its
 * lib/ into .bench-build/baseline with the bench's compiler settings, and
 * returns the revision as its short sha (`<rev> (<short sha>)` for a branch or tag).
 */
export function buildBaseline(rev: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();
  const sha = git('rev-parse', '--short', `${rev}^{commit}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'sse-bench-baseline-'));
  rmSync(dir, { recursive: true });
  git('worktree', 'add', '--detach', dir, sha);
  try {
    // Its imports resolve to the packages ours use: only lib/ differs.
    symlinkSync(realpathSync(path.join(REPO, 'node_modules')), path.join(dir, 'node_modules'), 'dir');
    const tsconfig = path.join(dir, 'tsconfig.bench-baseline.json');
    // As bench/tsconfig.json compiles ours: the revision's own settings, for Node, no declarations or maps.
    const compilerOptions = { rootDir: '.', outDir: OUT_DIR, types: ['node'], declaration: false, sourceMap: false };
    writeFileSync(tsconfig, JSON.stringify({ extends: './tsconfig.json', compilerOptions, include: ['lib'] }));
    execFileSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { stdio: 'inherit' });
  } finally {
    git('worktree', 'remove', '--force', dir);
  }
  return sha.startsWith(rev) ? sha : `${rev} (${sha})`;
}

/** The baseline's public module, for a subject to build its app from (its own decorators, module and hub). */
export async function loadBaseline<T>(): Promise<T> {
  if (!hasBaseline()) throw new Error('no baseline compiled: run with --baseline <git-rev>');
  return (await import(pathToFileURL(BASELINE_ENTRY).href)) as T;
}

/**
 * After ÷ before for every subject that has a baseline twin (`<key>-baseline`):
 * events/s and server CPU per event (burst), RSS per idle connection; each the
 * median of the ratios taken within a run.
 */
export function baselineTable(results: RunResult[], subjects: SubjectSpec[], scenarios: Scenario[], revision: string): string {
  const lines = [
    `Before/after, same run: this tree ÷ ${revision} (median of same-run ratios; below 1.00× is better for CPU and RSS).`,
    '',
    '| scenario | subject | events/s after | events/s before | events/s after ÷ before | CPU µs/event after ÷ before | RSS/connection after ÷ before |',
    '|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const scenario of scenarios) {
    for (const subject of subjects) {
      const before = results.filter((r) => r.scenario === scenario.key && r.subject === `${subject.key}-baseline`);
      const after = results.filter((r) => r.scenario === scenario.key && r.subject === subject.key);
      if (!before.length || !after.length) continue;
      const change = (pick: (r: RunResult) => number) => ratio(median(ratios(after, before, pick)));
      lines.push(
        `| ${scenario.label} | ${subject.label} | ${thousands(median(after.map((r) => r.eventsPerSecond)))} | ` +
          `${thousands(median(before.map((r) => r.eventsPerSecond)))} | ${change((r) => r.eventsPerSecond)} | ` +
          `${change((r) => r.cpuMicrosPerEvent)} | ${change((r) => r.rssPerConnection)} |`,
      );
    }
  }
  return lines.join('\n');
}
