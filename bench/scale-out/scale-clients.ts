/**
 * The clients of a scale-out run, in one process: raw TCP SSE clients (the
 * bench's `SseWireReader`), each on one instance with its own client id. Each
 * client checks that its events come numbered 0, 1, 2, … and counts what is
 * lost or duplicated; when its instance dies it reconnects to another one
 * with `Last-Event-ID`, as a browser does, and records when it has caught up.
 */
import net from 'node:net';
import { SseWireReader, type WireSink } from '../sse-wire-reader.js';
import { nowMicros } from '../payload.js';
import { percentile } from '../stats.js';
import { serve } from '../ipc.js';
import { CompletionWait } from '../completion-wait.js';

/** One client: where it connects first (`path` carries its name, client id and user). */
export interface ClientSpec {
  port: number;
  path: string;
}

const REPLACED = Buffer.from('"reason":"replaced"');
const GAP = Buffer.from('event: sse.gap');

let specs: ClientSpec[] = [];
let ports: number[] = [];
let readerIndex = new Map<SseWireReader, number>();
let sockets: net.Socket[] = [];
let readers: SseWireReader[] = [];
/** Per client: next sequence number it should see, duplicates, missing numbers skipped over. */
let next = new Int32Array(0);
let duplicates = 0;
let skipped = 0;
let heads = 0;
let badStatus = 0;
let errors = 0;
let errorSample = '';
let replaced = 0;
/** `sse.gap` events: the server said it could not replay everything a client missed. */
let gaps = 0;
let closing = false;
/** The first few events out of place in this phase (`client: expected → got`), to tell a loss from a reordering. */
let anomalies: string[] = [];
const noteAnomaly = (index: number, seq: number) => {
  if (anomalies.length < 8) anomalies.push(`${specs[index].path} ${next[index]}→${seq}`);
};

// Counting, for one measured phase.
let expected = new Int32Array(0);
let expectedTotal = 0;
let inPlace = 0;
let latencies = new Float64Array(0);
let latencyCount = 0;
let readTime = 0;
const completion = new CompletionWait();
let cpuAtExpect = process.cpuUsage();

// Reconnects (reconnect storm).
let reconnects = 0;
let reconnectedAt = new Float64Array(0);
let recoveredAt = new Float64Array(0);

/** Counts a client's in-order events up to what it is expected to have. */
const countsTowardExpected = (index: number, seq: number) => seq < expected[index];

const sink: WireSink = {
  head(_reader, status, isEventStream) {
    if (status === 200 && isEventStream) heads++;
    else badStatus++;
  },
  event(reader, seq, emitted) {
    const index = readerIndex.get(reader)!;
    if (seq < next[index]) {
      duplicates++;
      noteAnomaly(index, seq);
      return;
    }
    if (seq > next[index]) {
      skipped += seq - next[index];
      noteAnomaly(index, seq);
    }
    next[index] = seq + 1;
    if (countsTowardExpected(index, seq)) inPlace++;
    if (latencyCount < latencies.length) latencies[latencyCount++] = readTime - emitted;
    // Caught up after a reconnect: a live event (emitted after it reconnected), every earlier one in place.
    if (reconnectedAt[index] > 0 && recoveredAt[index] === 0 && emitted > reconnectedAt[index]) recoveredAt[index] = readTime;
    if (inPlace >= expectedTotal) completion.complete();
  },
};

function recordError(error: Error): void {
  errors++;
  errorSample ||= error.message;
}

/** Opens client `index` on `port`, with `Last-Event-ID` when it has one; resolves at its response head. */
function open(index: number, port: number, lastEventId: string | undefined): Promise<void> {
  return new Promise((resolve) => {
    const reader = new SseWireReader(sink);
    reader.trackIds = true;
    reader.lastEventId = lastEventId;
    readerIndex.set(reader, index);
    readers[index] = reader;
    const socket = net.connect({ host: '127.0.0.1', port });
    sockets[index] = socket;
    let headed = false;
    const resume = lastEventId === undefined ? '' : `Last-Event-ID: ${lastEventId}\r\n`;
    socket.on('connect', () => socket.write(`GET ${specs[index].path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n${resume}\r\n`));
    socket.on('data', (data: Buffer) => {
      readTime = nowMicros();
      if (data.includes(REPLACED)) replaced++;
      if (data.includes(GAP)) gaps++;
      reader.feed(data);
      if (!headed && heads + badStatus > 0) {
        headed = true;
        resolve();
      }
    });
    socket.on('error', (error) => {
      recordError(error);
      resolve();
    });
    socket.on('close', () => {
      resolve();
      if (closing || sockets[index] !== socket) return;
      // Its instance went away: reconnect elsewhere, from the last id it saw.
      const others = ports.filter((other) => other !== port);
      if (others.length === 0) return;
      reconnects++;
      if (reconnectedAt[index] === 0) reconnectedAt[index] = nowMicros();
      readerIndex.delete(reader);
      void open(index, others[index % others.length], reader.lastEventId);
    });
  });
}

/** Opens every client, at most `concurrency` waiting for their head at a time. */
async function connectAll(concurrency: number): Promise<number> {
  const started = Date.now();
  let cursor = 0;
  const worker = async () => {
    while (cursor < specs.length) {
      const index = cursor++;
      await open(index, specs[index].port, undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, worker));
  return Date.now() - started;
}

serve(async (request) => {
  switch (request.type) {
    case 'connect': {
      specs = request.clients as ClientSpec[];
      ports = [...new Set(specs.map((spec) => spec.port))];
      next = new Int32Array(specs.length);
      expected = new Int32Array(specs.length);
      reconnectedAt = new Float64Array(specs.length);
      recoveredAt = new Float64Array(specs.length);
      readerIndex = new Map();
      sockets = [];
      readers = [];
      const ms = await connectAll((request.concurrency as number) ?? 100);
      return { ms, heads, badStatus, errors, errorSample };
    }
    case 'expect': {
      // Cumulative: what each client should have received in all, once this phase is done.
      const more = request.perClient as number[];
      expectedTotal = 0;
      inPlace = 0;
      for (let i = 0; i < specs.length; i++) {
        expected[i] += more[i];
        expectedTotal += expected[i];
        inPlace += Math.min(next[i], expected[i]);
      }
      latencies = new Float64Array(expectedTotal - inPlace);
      latencyCount = 0;
      // Per phase: what went wrong in this one.
      skipped = 0;
      duplicates = 0;
      anomalies = [];
      cpuAtExpect = process.cpuUsage();
      return {};
    }
    case 'await': {
      const complete = await completion.wait(() => inPlace, inPlace >= expectedTotal, (request.stallMs as number) ?? 10_000);
      const sorted = latencies.subarray(0, latencyCount).sort();
      let lost = 0;
      for (let i = 0; i < specs.length; i++) lost += Math.max(0, expected[i] - next[i]);
      const cpu = process.cpuUsage(cpuAtExpect);
      const killedAt = (request.killedAtMicros as number) ?? 0;
      let recovered = 0;
      let lastRecovery = 0;
      for (let i = 0; i < specs.length; i++) {
        if (reconnectedAt[i] === 0 || recoveredAt[i] === 0) continue;
        recovered++;
        lastRecovery = Math.max(lastRecovery, recoveredAt[i]);
      }
      return {
        complete,
        received: latencyCount,
        p50Ms: percentile(sorted, latencyCount, 0.5) / 1000,
        p99Ms: percentile(sorted, latencyCount, 0.99) / 1000,
        // Skipped numbers never filled (a gap) and numbers still missing at the end.
        lost: skipped + lost,
        duplicates,
        replaced,
        gaps,
        reconnects,
        recovered,
        recoveryMs: killedAt > 0 && lastRecovery > 0 ? (lastRecovery - killedAt) / 1000 : NaN,
        errors,
        errorSample,
        cpuMicros: cpu.user + cpu.system,
        anomalies,
      };
    }
    case 'close':
      closing = true;
      for (const socket of sockets) socket.destroy();
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error(`unknown request ${request.type}`);
  }
});
process.send?.({ type: 'ready' });
