import net from 'node:net';
import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseHub, SseModule, type SseRequest } from '../../lib/index.js';
import { platforms, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';

const CYCLES = Number(process.env.LEAK_CYCLES ?? 20_000);
const WARM_UP = Number(process.env.LEAK_WARM_UP ?? 1_000);
/** How the cycles ended, for the record line. */
const outcomes: Record<string, number> = {};
/** Cycles in flight at once; maxConnections leaves room for stragglers from the previous batch. */
const BATCH = 100;
const MAX_CONNECTIONS = 2 * BATCH;
/** Heap growth allowed over 20,000 cycles: 4 MB, i.e. ~200 bytes per cycle; one retained connection is far more. */
const HEAP_GROWTH_LIMIT = 4 * 1024 * 1024;

@Controller()
class LeakController {
  @Get('leak')
  @SseConnection({ name: 'leak', group: (request: SseRequest) => (request.query as Record<string, string>).room })
  open() {}

  @Get('slow')
  @SseConnection({ name: 'leak' })
  async openSlowly() {
    // Pending for a while: a client that resets now leaves during the pending state.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const gc = (globalThis as { gc?: () => void }).gc;

async function collectGarbage(): Promise<number> {
  // Several rounds, with turns of the event loop between, so that finalizers and weak refs settle.
  for (let round = 0; round < 4; round++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/**
 * One connect/disconnect cycle over a raw socket. Four endings, in turn:
 * the client closes (FIN), the client resets (RST) after `sse.open`, the server
 * closes it through the hub, or the client resets right after sending the
 * request to a route whose handler has not returned yet (a pending connection).
 */
function cycle(port: number, hub: SseHub, i: number): Promise<void> {
  const ending = i % 4;
  const clientId = `c${i}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let outcome = 'closed before sse.open';
    socket.on('error', (error: NodeJS.ErrnoException) => (outcome = `error ${error.code}`));
    socket.on('close', () => {
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      resolve();
    });
    const path = ending === 3 ? '/slow' : '/leak';
    socket.write(
      `GET ${path}?room=r${i % 7} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nX-Sse-Client-Id: ${clientId}\r\n\r\n`,
    );
    if (ending === 3) {
      outcome = 'reset while pending';
      socket.resetAndDestroy();
      return;
    }
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (received.includes('event: sse.open')) {
        // The server ended the response; HTTP keep-alive would hold the socket for seconds.
        if (chunk.includes('event: sse.close')) socket.destroy();
        return;
      }
      received += chunk;
      if (!received.startsWith('HTTP/1.1 200')) {
        if (received.includes('\r\n')) reject(new Error(`cycle ${i}: ${received.split('\r\n')[0]}`));
        return;
      }
      if (!received.includes('event: sse.open')) return;
      outcome = 'opened';
      if (ending === 0) socket.destroy();
      else if (ending === 1) socket.resetAndDestroy();
      else void hub.close({ name: 'leak', clientId });
    });
  });
}

describe.each(platforms)('hardening: leaks ($name)', (platform) => {
  let t: TestApp;
  let hub: SseHub;
  let port: number;
  let connects = 0;
  let disconnects = 0;
  let settled: (() => void) | undefined;

  beforeAll(async () => {
    for (const key of Object.keys(outcomes)) delete outcomes[key];
    if (typeof gc !== 'function') {
      throw new Error('global.gc is missing: run jest with node --expose-gc (the npm test script does).');
    }
    t = await startApp(platform, {
      // 'reject': a refusal is a plain 503 here (the overload stream is covered by overload.spec.ts).
      imports: [SseModule.forRoot({ maxConnections: MAX_CONNECTIONS, keepAlive: 0, overload: 'reject' })],
      controllers: [LeakController],
    });
    hub = t.app.get(SseHub);
    port = Number(new URL(t.url).port);
    hub.events$.subscribe((event) => {
      if (event.type === 'connect') connects++;
      else disconnects++;
      if (connects === disconnects) settled?.();
    });
  });
  afterAll(() => t?.close());

  /** Resolves once every connection that opened has closed again (event driven). */
  function quiescent(): Promise<void> {
    if (connects === disconnects) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still open: ${connects - disconnects}`)), 20_000);
      settled = () => {
        clearTimeout(timer);
        settled = undefined;
        resolve();
      };
    });
  }

  async function run(from: number, count: number): Promise<void> {
    for (let start = from; start < from + count; start += BATCH) {
      const batch: Array<Promise<void>> = [];
      for (let i = start; i < Math.min(start + BATCH, from + count); i++) batch.push(cycle(port, hub, i));
      await Promise.all(batch);
      await quiescent();
    }
  }

  it(`${CYCLES} connect/disconnect cycles (FIN, RST, server close, RST while pending) leave nothing behind`, async () => {
    await run(0, WARM_UP);
    const baseline = await collectGarbage();

    await run(WARM_UP, CYCLES);
    await quiescent();
    expect(await hub.count()).toBe(0);
    expect(await hub.names()).toEqual([]);
    const after = await collectGarbage();
    const growth = after - baseline;
    // Printed for the record; only the generous bound is asserted.
    console.info(
      `leaks: ${connects} connections opened and closed; heap ${(baseline / 1048576).toFixed(1)} MB → ${(after / 1048576).toFixed(1)} MB ` +
        `(${growth >= 0 ? '+' : ''}${(growth / 1024).toFixed(0)} KB, ${(growth / CYCLES).toFixed(1)} B per cycle); endings ${JSON.stringify(outcomes)}`,
    );
    expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT);

    // No slot leaked either: exactly maxConnections can open now, and one more is refused.
    const clients = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => SseClient.open(`${t.url}/leak?room=x`)));
    expect(clients.map((client) => client.status)).toEqual(new Array(MAX_CONNECTIONS).fill(200));
    await Promise.all(clients.map((client) => client.opened()));
    const refused = await SseClient.open(`${t.url}/leak?room=x`);
    expect(refused.status).toBe(503);
    for (const client of clients) client.close();
    await quiescent();
    expect(await hub.count()).toBe(0);
  }, 300_000);
});
