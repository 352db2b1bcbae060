/**
 * The load generator process: opens the clients (raw TCP, GET /sse), counts
 * what each one receives, and reports throughput, latency, loss and order.
 * Driven by the orchestrator over IPC; never talks to anything but loopback.
 */
import net from 'node:net';
import { SseWireReader, type WireSink } from './sse-wire-reader.js';
import { nowMicros } from './payload.js';
import { percentile } from './stats.js';
import { serve } from './ipc.js';
import { CompletionWait } from './completion-wait.js';

interface Target {
  host: string;
  port: number;
}

const sockets: net.Socket[] = [];
const readers: SseWireReader[] = [];
let errors = 0;
let errorSample = '';
let badStatus = 0;
let closedEarly = 0;
let heads = 0;

// Counting, for one measured emission.
let expectedPerClient = 0;
let expectedTotal = 0;
let totalReceived = 0;
let latencies = new Float64Array(0);
let firstEmitted = Infinity;
let lastReceived = 0;
let readTime = 0;
const completion = new CompletionWait();
let cpuAtExpect = process.cpuUsage();

const sink: WireSink = {
  head(_reader, status, isEventStream) {
    if (status === 200 && isEventStream) heads++;
    else badStatus++;
  },
  event(_reader, _seq, emitted) {
    if (emitted < firstEmitted) firstEmitted = emitted;
    if (totalReceived < latencies.length) latencies[totalReceived] = readTime - emitted;
    totalReceived++;
    lastReceived = readTime;
    if (totalReceived === expectedTotal) completion.complete();
  },
};

function recordError(error: Error): void {
  errors++;
  if (!errorSample) errorSample = error.message;
}

/** Opens `clients` connections, at most `concurrency` still waiting for their head at a time. */
function connect(targets: Target[], clients: number, concurrency: number, sourceAddresses: string[]): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    let opened = 0;
    let settled = 0;
    const next = () => {
      if (opened >= clients) return;
      const index = opened++;
      const target = targets[index % targets.length];
      const localAddress = sourceAddresses.length ? sourceAddresses[index % sourceAddresses.length] : undefined;
      const reader = new SseWireReader(sink);
      const socket = net.connect({ host: target.host, port: target.port, localAddress });
      let counted = false;
      const settle = () => {
        if (counted) return;
        counted = true;
        settled++;
        if (settled === clients) resolve(Date.now() - started);
        else next();
      };
      socket.on('connect', () =>
        socket.write(`GET /sse HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nAccept: text/event-stream\r\n\r\n`),
      );
      socket.on('data', (data: Buffer) => {
        readTime = nowMicros();
        const before = heads + badStatus;
        reader.feed(data);
        if (heads + badStatus !== before) settle();
      });
      socket.on('error', (error) => {
        recordError(error);
        settle();
      });
      socket.on('close', () => {
        if (!closing) closedEarly++;
        settle();
      });
      sockets.push(socket);
      readers.push(reader);
    };
    if (clients === 0) resolve(0);
    for (let i = 0; i < Math.min(concurrency, clients); i++) next();
  });
}

let closing = false;

serve(async (request) => {
  switch (request.type) {
    case 'connect': {
      const ms = await connect(
        request.targets as Target[],
        request.clients as number,
        (request.concurrency as number) ?? 200,
        (request.sourceAddresses as string[]) ?? [],
      );
      return { ms, heads, badStatus, errors, errorSample, closedEarly };
    }
    case 'expect': {
      expectedPerClient = request.eventsPerClient as number;
      expectedTotal = expectedPerClient * readers.length;
      latencies = new Float64Array(expectedTotal);
      totalReceived = 0;
      firstEmitted = Infinity;
      lastReceived = 0;
      cpuAtExpect = process.cpuUsage();
      for (const reader of readers) {
        reader.expectedSeq = 0;
        reader.received = 0;
        reader.outOfOrder = 0;
      }
      return {};
    }
    case 'await': {
      const complete = await completion.wait(() => totalReceived, totalReceived >= expectedTotal, (request.stallMs as number) ?? 10_000);
      const count = Math.min(totalReceived, latencies.length);
      const sorted = latencies.subarray(0, count).sort();
      let outOfOrder = 0;
      let lost = 0;
      for (const reader of readers) {
        outOfOrder += reader.outOfOrder;
        lost += Math.max(0, expectedPerClient - reader.received);
      }
      const seconds = (lastReceived - firstEmitted) / 1e6;
      const cpu = process.cpuUsage(cpuAtExpect);
      return {
        complete,
        received: totalReceived,
        lost,
        outOfOrder,
        eventsPerSecond: count > 0 ? totalReceived / seconds : 0,
        p50Ms: percentile(sorted, count, 0.5) / 1000,
        p99Ms: percentile(sorted, count, 0.99) / 1000,
        maxMs: count > 0 ? sorted[count - 1] / 1000 : NaN,
        errors,
        errorSample,
        closedEarly,
        // Busy share of one core while receiving: near 1, the load generator (not the server) was the limit.
        loaderBusy: (cpu.user + cpu.system) / 1e6 / Math.max(1e-9, seconds),
      };
    }
    case 'close': {
      closing = true;
      for (const socket of sockets) socket.destroy();
      setImmediate(() => process.exit(0));
      return {};
    }
    default:
      throw new Error(`unknown request ${request.type}`);
  }
});
process.send?.({ type: 'ready' });
