/**
 * A server-under-test process: starts one subject on 127.0.0.1 and runs the
 * shared emit loop on request, measuring its own CPU and memory. Run with
 * --expose-gc so that memory is read after a full collection.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { memory } from './process-memory.js';
import { serve } from './ipc.js';
import { makePayload } from './payload.js';
import type { StartSubject } from './subjects/subject.js';

const subjectFile = process.argv[2];
const instance = Number(process.argv[3] ?? 0);
const runId = process.argv[4] ?? String(process.pid);
const { start } = (await import(`./subjects/${subjectFile}.subject.js`)) as { start: StartSubject };
const subject = await start(instance, runId);

let cpuAtEmit = process.cpuUsage();

// BENCH_CPU_PROFILE=<dir>: profile only the emissions (not boot or connects), one file per subject.
const profileDir = process.env.BENCH_CPU_PROFILE;
const profiler = profileDir ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
}

/**
 * The same emit loop for every subject: `batch` events per event-loop turn
 * until `events` are out; back to back (a burst, for throughput) or one batch
 * every `intervalMs` (paced, for latency at a rate every subject should sustain).
 */
function emit(events: number, batch: number, intervalMs: number): Promise<void> {
  cpuAtEmit = process.cpuUsage();
  const started = performance.now();
  return new Promise((resolve) => {
    let seq = 0;
    let turns = 0;
    const turn = () => {
      const end = Math.min(events, seq + batch);
      for (; seq < end; seq++) subject.broadcast(makePayload(seq));
      turns++;
      if (seq >= events) resolve();
      else if (intervalMs === 0) setImmediate(turn);
      // On schedule: a late turn is not made up by a faster one, the next waits its due time.
      else setTimeout(turn, Math.max(0, started + turns * intervalMs - performance.now()));
    };
    turn();
  });
}

let profiling = false;
let profileCount = 0;
/** Writes the profile of the emission that just ended: <subject>-<pid>-<n>.cpuprofile (n: 1 warm-up, 2 burst, 3 paced). */
async function saveProfile(): Promise<void> {
  if (!profiler || !profiling) return;
  profiling = false;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(`${profileDir}/${subjectFile}-${process.pid}-${++profileCount}.cpuprofile`, JSON.stringify(profile));
}

serve(async (request) => {
  switch (request.type) {
    case 'connections':
      return { connections: await subject.connections() };
    case 'memory':
      return memory();
    case 'emit':
      await saveProfile();
      if (profiler) {
        await profiler.post('Profiler.start');
        profiling = true;
      }
      // Answered at once: the orchestrator learns the end from the load generator.
      void emit(request.events as number, request.batch as number, (request.intervalMs as number) ?? 0);
      return {};
    case 'cpu': {
      const { user, system } = process.cpuUsage(cpuAtEmit);
      await saveProfile();
      return { cpuMicros: user + system };
    }
    case 'heap-snapshot':
      // For investigating memory per connection by hand (see RESULTS.md).
      globalThis.gc?.();
      return { path: writeHeapSnapshot(request.path as string) };
    case 'stop':
      await saveProfile();
      await subject.close();
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error(`unknown request ${request.type}`);
  }
});
process.send?.({ type: 'ready', port: subject.port });
