/**
 * The network figures of `npm run bench`: bytes on the wire, server CPU per
 * event and RSS per connection with and without `compression`, on a
 * realistic JSON tick (bench/network/tick.ts), and HTTP/2 fan-out (h2c, many
 * streams per session) against HTTP/1.1. Each case: a fresh server process
 * (network-server.ts) and load generator (network-client.ts); the median of
 * `runs` runs. Written between the bench:network markers of bench/RESULTS.md.
 */
import os from 'node:os';
import { ask } from '../ipc.js';
import { writeResultsBlock } from '../results-file.js';
import { startChild, stopped } from '../measure.js';
import { tickPayload } from './tick.js';

interface NetworkCase {
  label: string;
  platform: 'express' | 'fastify' | 'fastify-h2c';
  compression: boolean;
  clients: number;
  /** HTTP/2 streams per session; 0 = HTTP/1.1, one connection per client. */
  streamsPerSession: number;
  /** One event every this many ms (paced: the load generator keeps up); default one per event-loop turn. */
  intervalMs?: number;
}

interface NetworkResult {
  bytesPerDelivery: number;
  cpuMicrosPerEvent: number;
  cpuMicrosPerDelivery: number;
  deliveriesPerSecond: number;
  rssPerConnection: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`network bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function measureCase(c: NetworkCase, events: number): Promise<NetworkResult> {
  const { child: server, port } = await startChild('network/network-server.js', [c.platform, c.compression ? 'on' : 'off'], ['--expose-gc']);
  const { child: client } = await startChild('network/network-client.js', [], []);
  try {
    const before = await ask<{ rss: number }>(server, { type: 'memory' });
    await ask(client, { type: 'open', port, clients: c.clients, gzip: true, streamsPerSession: c.streamsPerSession });
    await until(async () => (await ask<{ connections: number }>(server, { type: 'connections' })).connections === c.clients, `${c.clients} connections`);
    const after = await ask<{ rss: number }>(server, { type: 'memory' });
    await ask(client, { type: 'reset', events: c.clients * events });
    const waiting = ask<{ wireBytes: number; events: number; ms: number }>(client, { type: 'wait' }, 300_000);
    await ask(server, { type: 'emit', events, intervalMs: c.intervalMs ?? 0 });
    const received = await waiting;
    const { cpuMicros } = await ask<{ cpuMicros: number }>(server, { type: 'cpu' });
    const deliveries = c.clients * events;
    return {
      bytesPerDelivery: received.wireBytes / deliveries,
      cpuMicrosPerEvent: cpuMicros / events,
      cpuMicrosPerDelivery: cpuMicros / deliveries,
      deliveriesPerSecond: deliveries / (received.ms / 1000),
      rssPerConnection: (after.rss - before.rss) / c.clients,
    };
  } finally {
    await ask(client, { type: 'close' }).catch(() => undefined);
    client.kill();
    await ask(server, { type: 'stop' }).catch(() => undefined);
    await Promise.all([stopped(server), stopped(client)]);
  }
}

/** Runs the network cases; returns their table (markdown) and writes it into RESULTS.md when `write`. */
export async function runNetworkBench(options: { quick: boolean; write: boolean; runs: number; clients?: number }): Promise<string> {
  const clients = options.clients ?? (options.quick ? 200 : 1000);
  const events = options.quick ? 50 : 200;
  const cases: NetworkCase[] = [
    { label: `Fastify, HTTP/1.1, ${clients} connections`, platform: 'fastify', compression: false, clients, streamsPerSession: 0 },
    { label: `Fastify, HTTP/1.1, ${clients} connections`, platform: 'fastify', compression: true, clients, streamsPerSession: 0 },
    { label: `Fastify, HTTP/1.1, ${clients} connections, paced (an event every 20 ms)`, platform: 'fastify', compression: false, clients, streamsPerSession: 0, intervalMs: 20 },
    { label: `Fastify, HTTP/1.1, ${clients} connections, paced (an event every 20 ms)`, platform: 'fastify', compression: true, clients, streamsPerSession: 0, intervalMs: 20 },
    { label: 'Fastify, HTTP/1.1, 100 connections', platform: 'fastify', compression: false, clients: 100, streamsPerSession: 0 },
    { label: 'Fastify, HTTP/1.1, 100 connections', platform: 'fastify', compression: true, clients: 100, streamsPerSession: 0 },
    { label: `Express, HTTP/1.1, ${clients} connections`, platform: 'express', compression: false, clients, streamsPerSession: 0 },
    { label: `Express, HTTP/1.1, ${clients} connections`, platform: 'express', compression: true, clients, streamsPerSession: 0 },
    { label: `Fastify, HTTP/2 h2c, ${clients} streams on ${clients / 100} sessions`, platform: 'fastify-h2c', compression: false, clients, streamsPerSession: 100 },
    { label: `Fastify, HTTP/2 h2c, ${clients} streams on ${clients / 100} sessions`, platform: 'fastify-h2c', compression: true, clients, streamsPerSession: 100 },
  ];
  const lines = [
    '| case | compression | bytes on the wire per delivery | server CPU per event (all recipients) | CPU per delivery | deliveries/s | RSS per connection |',
    '| --- | --- | --: | --: | --: | --: | --: |',
  ];
  for (const c of cases) {
    const results: NetworkResult[] = [];
    for (let run = 0; run < options.runs; run++) results.push(await measureCase(c, events));
    const pick = (key: keyof NetworkResult) => median(results.map((r) => r[key]));
    const row =
      `| ${c.label} | ${c.compression ? 'gzip' : 'off'} | ${pick('bytesPerDelivery').toFixed(0)} B | ${pick('cpuMicrosPerEvent').toFixed(0)} µs | ` +
      `${pick('cpuMicrosPerDelivery').toFixed(2)} µs | ${Math.round(pick('deliveriesPerSecond')).toLocaleString('en-US')} | ${(pick('rssPerConnection') / 1024).toFixed(1)} KB |`;
    console.log(row);
    lines.push(row);
  }
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  const table = [
    `Produced by \`npm run bench\`${options.quick ? ' --quick' : ''} (network part) on ${new Date().toISOString().slice(0, 10)}: ${events} events of ` +
      `${Buffer.byteLength(tickPayload(0))}-byte JSON (bench/network/tick.ts), one per event-loop turn (a burst) unless paced, broadcast to every client; ` +
      `median of ${options.runs} run(s); load average at the end ${load} (the machine is shared). Bytes per delivery count the ` +
      'response body as it came off the socket (the HTTP/1.1 chunk framing and the HTTP/2 frame headers included).',
    '',
    ...lines,
  ].join('\n');
  if (options.write) writeResultsBlock('bench:network', table, 'Network: compression and HTTP/2');
  return table;
}
