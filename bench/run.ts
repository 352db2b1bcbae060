/**
 * `npm run bench [-- --quick] [--runs N] [--subjects a,b] [--scenarios x,y] [--write] [--source-addresses N] [--network-only | --no-network] [--streams-only | --no-streams] [--scale-out-only [--scale-out publisher-single,publisher-cluster,storm,private] | --no-scale-out] [--baseline <git-rev>]`
 *
 * For each scenario and each run, every subject is measured in turn (the
 * order rotates from run to run, so no subject always goes first); each
 * figure is the median over the runs and each ratio is taken against
 * node:http of the same run. A full run (not --quick) rewrites the generated
 * part of bench/RESULTS.md, bench/results.svg and bench/results.json.
 * `--baseline <git-rev>` also measures that revision's lib/ (the "(baseline)"
 * subjects, bench/baseline.ts) and adds a table of after ÷ before.
 * The scale-out part (bench/scale-out: several instance processes, a
 * publisher-only worker, its own Redis and Redis Cluster) runs last;
 * `--scale-out-only` runs just that, `--no-scale-out` leaves it out.
 */
import os from 'node:os';
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { measure, type RunResult } from './measure.js';
import { SCENARIOS } from './scenarios.js';
import { SUBJECTS, YARDSTICK } from './subjects/index.js';
import { summarize } from './summary.js';
import { unavailable } from './availability.js';
import { targetsTable } from './targets.js';
import { markdownTables, svgChart } from './report.js';
import { runNetworkBench } from './network/run-network.js';
import { benchFile, writeResultsBlock } from './results-file.js';
import { runStreamsBench } from './streams/run-streams.js';
import { baselineTable, buildBaseline } from './baseline.js';
import { runScaleOutBench } from './scale-out/run-scale-out.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};

const quick = flag('quick');
const runs = Number(option('runs') ?? (quick ? 1 : 3));
const write = flag('write') || !quick;
const wanted = (list: string | undefined) => (list ? new Set(list.split(',')) : undefined);
const subjectKeys = wanted(option('subjects'));
const baselineRev = option('baseline');
// Compiled before the subjects are chosen: the baseline subjects need it.
const baseline = baselineRev ? buildBaseline(baselineRev) : undefined;
const scenarioKeys = wanted(option('scenarios'));
// The yardstick is always measured: every ratio needs it. Subjects whose platform or
// transport this tree does not have yet are skipped, and said so.
const subjects: typeof SUBJECTS = [];
for (const subject of SUBJECTS.filter((s) => !subjectKeys || subjectKeys.has(s.key) || s.key === YARDSTICK)) {
  const reason = await unavailable(subject);
  if (reason) console.log(`skipping ${subject.key}: ${reason}`);
  else subjects.push(subject);
}
const batchOverride = option('batch');
const scenarios = SCENARIOS.filter((s) => !scenarioKeys || scenarioKeys.has(s.key)).map((s) =>
  batchOverride ? { ...s, batch: Number(batchOverride) } : s,
);
const sourceCount = Number(option('source-addresses') ?? 0);
const sourceAddresses = Array.from({ length: sourceCount }, (_, i) => `127.0.0.${i + 1}`);
const serverFlags = option('server-flags')?.split(' ').filter(Boolean) ?? [];

function machineFacts(): string {
  const cpus = os.cpus();
  let kernel = os.release();
  try {
    kernel = execSync('uname -sr').toString().trim();
  } catch {
    // uname missing: os.release() will do
  }
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  return [
    `- CPU: ${cpus.length} × ${cpus[0]?.model ?? 'unknown'}; memory ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${kernel}`,
    `- Node ${process.version}; load average at start (1/5/15 min): ${load}`,
    `- Date: ${new Date().toISOString()}`,
  ].join('\n');
}

const command = args.length ? `npm run bench -- ${args.join(' ')}` : 'npm run bench';
if (flag('scale-out-only')) {
  const parts = wanted(option('scale-out'));
  // A part alone is a try-out: it does not rewrite RESULTS.md unless asked (--write).
  await runScaleOutBench({ quick, write: parts ? flag('write') : write, facts: machineFacts(), command, parts });
  process.exit(0);
}
// --streams-only: only the resumable-streams part (recording overhead); --no-streams skips it.
if (flag('streams-only')) {
  await runStreamsBench({ quick, write, runs });
  process.exit(0);
}

// --network-only: only the network part (compression, HTTP/2 fan-out); --no-network: only the matrix.
if (flag('network-only')) {
  await runNetworkBench({ quick, write, runs, clients: option('clients') ? Number(option('clients')) : undefined });
  process.exit(0);
}

const started = Date.now();
const facts = machineFacts();
console.log(`bench: ${subjects.map((s) => s.key).join(', ')} × ${scenarios.map((s) => s.key).join(', ')} × ${runs} run(s)`);

const results: RunResult[] = [];
for (const scenario of scenarios) {
  for (let run = 1; run <= runs; run++) {
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[(i + run - 1) % subjects.length];
      const result = await measure(subject, scenario, run, { sourceAddresses, serverFlags, warmup: true, pacedShare: quick ? 0.5 : 1 });
      results.push(result);
      const figure =
        scenario.events > 0
          ? `${Math.round(result.eventsPerSecond).toLocaleString('en-US')} ev/s p99 ${result.p99Ms.toFixed(1)} ms cpu ${result.cpuMicrosPerEvent.toFixed(2)} µs/ev ` +
            `loader ${Math.round(result.loaderBusy * 100)}% | paced p50 ${result.pacedP50Ms.toFixed(2)} p99 ${result.pacedP99Ms.toFixed(2)} ms`
          : `${(result.rssPerConnection / 1024).toFixed(1)} KB rss/conn ${(result.heapPerConnection / 1024).toFixed(1)} KB heap/conn`;
      const problems = result.lost + result.outOfOrder + result.errors ? ` lost ${result.lost} ooo ${result.outOfOrder} err ${result.errors}` : '';
      console.log(`  ${scenario.key} run ${run} ${subject.key}: ${figure}${problems}${result.note ? ` (${result.note})` : ''}`);
    }
  }
}

const rows = summarize(results, subjects, scenarios);
const comparison = baseline ? `\n${baselineTable(results, subjects, scenarios, baseline)}\n` : '';
const tables = `${markdownTables(rows)}\n${targetsTable(rows, results)}${comparison}`;
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
console.log(`\n${tables}\n(${minutes} min)`);

if (write) {
  const generated = [
    `Produced by \`${command}\` in ${minutes} min, ${runs} run(s) per figure (median; ratios are medians of same-run ratios).`,
    '',
    facts,
    '',
    tables,
    '![chart](results.svg)',
  ].join('\n');
  writeResultsBlock('bench:generated', generated, 'Results');
  writeFileSync(benchFile('results.svg'), svgChart(rows, `${command} · ${new Date().toISOString().slice(0, 16)}Z · ${os.cpus().length} cores · Node ${process.version}`));
  writeFileSync(benchFile('results.json'), JSON.stringify({ command, facts, results }, null, 1));
  console.log('wrote bench/RESULTS.md, bench/results.svg, bench/results.json');
}
if (!flag('no-network')) await runNetworkBench({ quick, write, runs });
if (!flag('no-streams')) await runStreamsBench({ quick, write, runs });
if (!flag('no-scale-out')) await runScaleOutBench({ quick, write, facts: machineFacts(), command });
process.exit(0);
