/**
 * One measurement: a subject's server process(es) and a fresh load generator
 * for one scenario, torn down afterwards so that runs cannot leak into each
 * other.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ask } from './ipc.js';
import type { Scenario } from './scenarios.js';
import type { SubjectSpec } from './subjects/index.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Everything one run yields; NaN where a scenario does not measure it. */
export interface RunResult {
  subject: string;
  scenario: string;
  run: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuMicrosPerEvent: number;
  /** Load generator's busy share of a core during the burst (near 1: it was the limit). */
  loaderBusy: number;
  pacedP50Ms: number;
  pacedP99Ms: number;
  pacedMaxMs: number;
  pacedLost: number;
  rssPerConnection: number;
  heapPerConnection: number;
  connectMs: number;
  delivered: number;
  lost: number;
  outOfOrder: number;
  errors: number;
  note: string;
}

interface LoadResult {
  complete: boolean;
  received: number;
  lost: number;
  outOfOrder: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  errorSample: string;
  closedEarly: number;
  loaderBusy: number;
}

/** Forks a bench child process and resolves once it reports ready (with its port, if it serves one). */
export function startChild(file: string, args: string[], execArgv: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(here(file), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} ${args.join(' ')} did not start`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
    child.once('message', (message: { type: string; port?: number }) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve({ child, port: message.port ?? 0 });
    });
  });
}

/** Resolves once `child` has exited (killed after 10 s). */
export function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export interface MeasureOptions {
  sourceAddresses: string[];
  /** Extra node flags for the server processes (e.g. --cpu-prof). */
  serverFlags: string[];
  warmup: boolean;
  /** Share of the scenario's events sent in the paced phase (1; less for --quick). */
  pacedShare: number;
}

export async function measure(subject: SubjectSpec, scenario: Scenario, run: number, options: MeasureOptions): Promise<RunResult> {
  const servers: ChildProcess[] = [];
  let loader: ChildProcess | undefined;
  const result: RunResult = {
    subject: subject.key,
    scenario: scenario.key,
    run,
    eventsPerSecond: NaN,
    p50Ms: NaN,
    p99Ms: NaN,
    maxMs: NaN,
    cpuMicrosPerEvent: NaN,
    loaderBusy: NaN,
    pacedP50Ms: NaN,
    pacedP99Ms: NaN,
    pacedMaxMs: NaN,
    pacedLost: 0,
    rssPerConnection: NaN,
    heapPerConnection: NaN,
    connectMs: NaN,
    delivered: 0,
    lost: 0,
    outOfOrder: 0,
    errors: 0,
    note: '',
  };
  try {
    const targets: Array<{ host: string; port: number }> = [];
    const runId = `${process.pid}-${subject.key}-${scenario.key}-${run}`;
    for (let instance = 0; instance < subject.instances; instance++) {
      const { child, port } = await startChild('server.js', [subject.file, String(instance), runId], [
        '--expose-gc',
        ...options.serverFlags,
      ]);
      servers.push(child);
      targets.push({ host: '127.0.0.1', port });
    }
    const before = await Promise.all(servers.map((server) => ask<{ rss: number; heapUsed: number }>(server, { type: 'memory' })));
    loader = (await startChild('load-generator.js', [], [])).child;

    const connected = await ask<{ ms: number; heads: number; badStatus: number; errors: number; errorSample: string; closedEarly: number }>(
      loader,
      { type: 'connect', targets, clients: scenario.clients, concurrency: 200, sourceAddresses: options.sourceAddresses },
      300_000,
    );
    result.connectMs = connected.ms;
    result.errors = connected.errors + connected.badStatus + connected.closedEarly;
    if (connected.heads !== scenario.clients) {
      result.note = `only ${connected.heads}/${scenario.clients} connected (${connected.errorSample || 'no error'})`;
    } else if (result.errors > 0) {
      result.note = `${result.errors} connection errors (${connected.errorSample || 'closed early'})`;
    }
    // Reachable, not merely answered: wait until the servers count every client.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const counts = await Promise.all(servers.map((server) => ask<{ connections: number }>(server, { type: 'connections' })));
      if (sum(counts.map((count) => count.connections)) >= connected.heads) break;
      if (Date.now() > deadline) {
        const counted = sum(counts.map((count) => count.connections));
        throw new Error(`servers counted ${counted}, not ${connected.heads} connections${result.note ? `; ${result.note}` : ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const after = await Promise.all(servers.map((server) => ask<{ rss: number; heapUsed: number }>(server, { type: 'memory' })));
    if (scenario.events === 0) {
      result.rssPerConnection = (sum(after.map((m) => m.rss)) - sum(before.map((m) => m.rss))) / scenario.clients;
      result.heapPerConnection = (sum(after.map((m) => m.heapUsed)) - sum(before.map((m) => m.heapUsed))) / scenario.clients;
    } else {
      const emitOnce = async (batch: number, intervalMs: number, events = scenario.events): Promise<LoadResult> => {
        await ask(loader!, { type: 'expect', eventsPerClient: events });
        await ask(servers[0], { type: 'emit', events, batch, intervalMs });
        const answer = await ask<LoadResult>(loader!, { type: 'await', stallMs: 10_000 }, 600_000);
        // NaN travels over IPC (JSON) as null.
        for (const [key, value] of Object.entries(answer)) if (value === null) Object.assign(answer, { [key]: NaN });
        return answer;
      };
      // Warm-up: the same emission, unmeasured, so that every subject is measured JIT-compiled.
      if (options.warmup) await emitOnce(scenario.batch, 0);
      const load = await emitOnce(scenario.batch, 0);
      const cpu = await Promise.all(servers.map((server) => ask<{ cpuMicros: number }>(server, { type: 'cpu' })));
      result.eventsPerSecond = load.eventsPerSecond;
      result.p50Ms = load.p50Ms;
      result.p99Ms = load.p99Ms;
      result.maxMs = load.maxMs;
      result.delivered = load.received;
      result.lost = load.lost;
      result.outOfOrder = load.outOfOrder;
      result.errors = load.errors + load.closedEarly;
      result.loaderBusy = load.loaderBusy;
      result.cpuMicrosPerEvent = sum(cpu.map((c) => c.cpuMicros)) / Math.max(1, load.received);
      // Paced: one event at a time at a rate every subject should sustain; latency without a backlog.
      const paced = await emitOnce(1, scenario.pacedIntervalMs, Math.max(1, Math.round(scenario.events * options.pacedShare)));
      result.pacedP50Ms = paced.p50Ms;
      result.pacedP99Ms = paced.p99Ms;
      result.pacedMaxMs = paced.maxMs;
      result.pacedLost = paced.lost;
      result.lost += paced.lost;
      result.outOfOrder += paced.outOfOrder;
      // The load generator's error counts are cumulative.
      result.errors = paced.errors + paced.closedEarly;
      if (!paced.complete) result.note ||= `paced phase stalled: ${paced.received}/${scenario.clients * scenario.events}`;
      if (!load.complete) result.note ||= `stalled: ${load.received}/${scenario.clients * scenario.events} delivered`;
    }
  } catch (error) {
    result.note = error instanceof Error ? error.message : String(error);
  } finally {
    if (loader) {
      await ask(loader, { type: 'close' }, 10_000).catch(() => loader!.kill('SIGKILL'));
      await stopped(loader);
    }
    for (const server of servers) {
      await ask(server, { type: 'stop' }, 15_000).catch(() => server.kill('SIGKILL'));
      await stopped(server);
    }
  }
  return result;
}
