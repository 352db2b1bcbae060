/**
 * The processes of one scale-out measurement: N application instances, one
 * publisher-only worker and one clients process, each its own OS process
 * (forked like the rest of the bench, bench/measure.ts), driven over IPC.
 */
import type { ChildProcess } from 'node:child_process';
import { ask } from '../ipc.js';
import { startChild, stopped } from '../measure.js';
import type { ClientSpec } from './scale-clients.js';
import type { ScaleProcessOptions } from './scale-options.js';
import { sendsTo, type SendPlan } from './scale-plan.js';

/** A client as the orchestrator plans it: where it connects and the key (name or user) its events are numbered by. */
export interface PlannedClient extends ClientSpec {
  key: string;
}

/** What the publisher reports for one phase. */
export interface PublisherResult {
  sends: number;
  seconds: number;
  sendsPerSecond: number;
  cpuMicrosPerSend: number;
  errors: number;
  errorSample: string;
}

/** What the clients report for one phase. */
export interface ClientsResult {
  complete: boolean;
  received: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  duplicates: number;
  replaced: number;
  /** `sse.gap` events received (the server could not replay all a client missed). */
  gaps: number;
  reconnects: number;
  recovered: number;
  recoveryMs: number;
  errors: number;
  errorSample: string;
  /** CPU the clients process used since `expect`. */
  cpuMicros: number;
  /** The first few events out of place (`path expected→got`). */
  anomalies: string[];
}

/** One instance's CPU and Redis reads since the last mark. */
export interface InstanceUsage {
  cpuMicros: number;
  messages: number;
  bytes: number;
}

// NaN travels over IPC (JSON) as null.
const numbersBack = <T extends object>(answer: T): T => {
  for (const [key, value] of Object.entries(answer)) if (value === null) Object.assign(answer, { [key]: NaN });
  return answer;
};

/** The instances, the publisher and the clients of one measurement, started together and stopped together. */
export class ScaleFleet {
  private clientPlan: PlannedClient[] = [];
  private readonly dead = new Set<ChildProcess>();

  private constructor(
    readonly instances: Array<{ child: ChildProcess; port: number }>,
    private readonly publisher: ChildProcess,
    private readonly clients: ChildProcess,
  ) {}

  /** Starts `instances` instances, the publisher and the clients process (nothing connected yet). */
  static async start(options: ScaleProcessOptions, instances: number): Promise<ScaleFleet> {
    const json = JSON.stringify(options);
    const started: Array<{ child: ChildProcess; port: number }> = [];
    for (let i = 0; i < instances; i++) started.push(await startChild('scale-out/scale-instance.js', [json], ['--expose-gc']));
    const publisher = (await startChild('scale-out/scale-publisher.js', [json], [])).child;
    const clients = (await startChild('scale-out/scale-clients.js', [], [])).child;
    return new ScaleFleet(started, publisher, clients);
  }

  get ports(): number[] {
    return this.instances.map((instance) => instance.port);
  }

  /** Opens the clients and waits until the instances count every one of them. */
  async connect(clients: PlannedClient[]): Promise<void> {
    this.clientPlan = clients;
    const specs: ClientSpec[] = clients.map(({ port, path }) => ({ port, path }));
    const answer = await ask<{ heads: number; errors: number; errorSample: string }>(this.clients, { type: 'connect', clients: specs }, 300_000);
    if (answer.heads !== clients.length) throw new Error(`only ${answer.heads}/${clients.length} clients connected (${answer.errorSample || 'no error'})`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const counts = await Promise.all(this.live().map((instance) => ask<{ connections: number }>(instance.child, { type: 'connections' })));
      if (counts.reduce((sum, count) => sum + count.connections, 0) >= clients.length) return;
      if (Date.now() > deadline) throw new Error(`instances counted ${JSON.stringify(counts)}, not ${clients.length} connections`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** RSS and heap of every live instance, summed, after a full collection. */
  async memory(): Promise<{ rss: number; heapUsed: number }> {
    const each = await Promise.all(this.live().map((instance) => ask<{ rss: number; heapUsed: number }>(instance.child, { type: 'memory' })));
    return each.reduce((sum, m) => ({ rss: sum.rss + m.rss, heapUsed: sum.heapUsed + m.heapUsed }), { rss: 0, heapUsed: 0 });
  }

  /** Marks the start of a measurement on every live instance (CPU, reads). */
  async mark(): Promise<void> {
    await Promise.all(this.live().map((instance) => ask(instance.child, { type: 'mark' })));
  }

  /** Every live instance's CPU and reads since its mark. */
  usage(): Promise<InstanceUsage[]> {
    return Promise.all(this.live().map((instance) => ask<InstanceUsage>(instance.child, { type: 'since-mark' })));
  }

  /** Tells the clients what the plan will deliver to each (before the publisher starts). */
  async expect(plan: SendPlan): Promise<void> {
    await ask(this.clients, { type: 'expect', perClient: this.clientPlan.map((client) => sendsTo(plan, client.key)) });
  }

  /** Runs the plan on the publisher; resolves with what it did. */
  async publish(plan: SendPlan): Promise<PublisherResult> {
    return numbersBack(await ask<PublisherResult>(this.publisher, { type: 'run', plan }, 600_000));
  }

  /** Waits until every client has what it should (or stalls for `stallMs`). */
  async received(stallMs: number, killedAtMicros = 0): Promise<ClientsResult> {
    return numbersBack(await ask<ClientsResult>(this.clients, { type: 'await', stallMs, killedAtMicros }, 600_000));
  }

  /** Kills instance `index` without any shutdown (a crash). */
  async kill(index: number): Promise<void> {
    const { child } = this.instances[index];
    this.dead.add(child);
    child.kill('SIGKILL');
    await stopped(child);
  }

  async stop(): Promise<void> {
    await ask(this.clients, { type: 'close' }, 10_000).catch(() => this.clients.kill('SIGKILL'));
    await stopped(this.clients);
    await ask(this.publisher, { type: 'stop' }, 15_000).catch(() => this.publisher.kill('SIGKILL'));
    await stopped(this.publisher);
    for (const instance of this.live()) {
      await ask(instance.child, { type: 'stop' }, 15_000).catch(() => instance.child.kill('SIGKILL'));
      await stopped(instance.child);
    }
  }

  private live(): Array<{ child: ChildProcess; port: number }> {
    return this.instances.filter((instance) => !this.dead.has(instance.child));
  }
}
