/**
 * The scale-out part of `npm run bench` (`--scale-out-only` runs just this,
 * `--no-scale-out` skips it): the three multi-process scenarios of issue 16
 * in one run, printed side by side against the targets, and (for a
 * full run) written to the "Scale-out" section of bench/RESULTS.md.
 */
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { benchFile, writeResultsBlock } from '../results-file.js';
import { runThroughput, THROUGHPUT_QUICK, THROUGHPUT_SIZES, type ThroughputResult } from './publisher-throughput.scenario.js';
import { runStorm, STORM_QUICK, STORM_SIZES, type StormResult } from './reconnect-storm.scenario.js';
import { PRIVATE_QUICK, PRIVATE_SIZES, runPrivateSends, type PrivateResult } from './private-sends.scenario.js';
import { scaleOutUnavailable } from './scale-redis.js';
import { scaleOutReport } from './scale-report.js';

/** Everything one scale-out run measured (written to bench/scale-out-results.json). */
export interface ScaleOutResults {
  throughput: ThroughputResult[];
  storm: StormResult | undefined;
  privateSends: PrivateResult | undefined;
  load: { before: number[]; after: number[] };
  minutes: number;
  facts: string;
}


const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The parts of the scale-out bench, as `--scale-out <list>` names them. */
export const SCALE_OUT_PARTS = ['publisher-single', 'publisher-cluster', 'storm', 'private'] as const;

/** Runs the scale-out scenarios, prints the report and (with `write`) writes it to bench/RESULTS.md. */
export async function runScaleOutBench(options: {
  quick: boolean;
  write: boolean;
  facts: string;
  command: string;
  /** Only these parts (default: all of them). */
  parts?: ReadonlySet<string>;
}): Promise<void> {
  const wanted = (part: (typeof SCALE_OUT_PARTS)[number]) => !options.parts || options.parts.has(part);
  const reason = scaleOutUnavailable();
  if (reason) {
    console.log(`scale-out: skipped (${reason})`);
    return;
  }
  const started = Date.now();
  const runId = `${process.pid}-${Date.now()}`;
  const before = os.loadavg();
  const throughput: ThroughputResult[] = [];
  const failures: string[] = [];
  for (const masters of [1, 3]) {
    if (!wanted(masters === 1 ? 'publisher-single' : 'publisher-cluster')) continue;
    try {
      const result = await runThroughput(masters, options.quick ? THROUGHPUT_QUICK : THROUGHPUT_SIZES, `${runId}-tp${masters}`);
      throughput.push(result);
      console.log(
        `  scale-out publisher ${result.redis}: ${Math.round(result.burst.sendsPerSecond)} sends/s, p50 ${result.burstClients.p50Ms.toFixed(1)} p99 ${result.burstClients.p99Ms.toFixed(1)} ms; ` +
          `µs/send redis ${result.redisMicrosPerSend.toFixed(1)} publisher ${result.publisherMicrosPerSend.toFixed(1)} instances ${result.instancesMicrosPerSend.toFixed(1)}; ` +
          `paced p50 ${result.pacedClients.p50Ms.toFixed(2)} p99 ${result.pacedClients.p99Ms.toFixed(2)} ms ${result.note}` +
          ` ${[...result.burstClients.anomalies, ...result.pacedClients.anomalies].join(', ')}`,
      );
    } catch (error) {
      failures.push(`publisher, ${masters} master(s): ${errorText(error)}`);
    }
  }
  let storm: StormResult | undefined;
  if (wanted('storm')) {
    try {
      storm = await runStorm(1, options.quick ? STORM_QUICK : STORM_SIZES, `${runId}-storm`);
      console.log(
        `  scale-out storm: ${storm.clients.recovered}/${storm.affected} caught up in ${storm.clients.recoveryMs.toFixed(0)} ms, ` +
          `lost ${storm.clients.lost}, duplicated ${storm.clients.duplicates}, sse.gap ${storm.clients.gaps} ${storm.note} ${storm.clients.anomalies.join(', ')}`,
      );
    } catch (error) {
      failures.push(`reconnect storm: ${errorText(error)}`);
    }
  }
  let privateSends: PrivateResult | undefined;
  if (wanted('private')) {
    try {
      privateSends = await runPrivateSends(1, options.quick ? PRIVATE_QUICK : PRIVATE_SIZES, `${runId}-private`);
      console.log(`  scale-out private: reads ${privateSends.instances.map((i) => i.messages).join(' / ')} messages, replaced ${privateSends.clients.replaced} ${privateSends.note}`);
    } catch (error) {
      failures.push(`private sends: ${errorText(error)}`);
    }
  }
  const minutes = (Date.now() - started) / 60_000;
  const results: ScaleOutResults = { throughput, storm, privateSends, load: { before, after: os.loadavg() }, minutes, facts: options.facts };
  const report = scaleOutReport(results, failures, options.command);
  console.log(`\n${report}`);
  if (!options.write) return;
  writeResultsBlock('scale-out:generated', report, 'Scale-out (several processes, Redis)');
  writeFileSync(benchFile('scale-out-results.json'), JSON.stringify(results, null, 1));
  console.log('wrote the Scale-out section of bench/RESULTS.md and bench/scale-out-results.json');
}
