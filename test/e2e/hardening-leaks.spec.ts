import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseModule, type SseHub, type SseRequest } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { untilNoConnections } from '../support/hub.js';
import { RawStream } from '../support/raw-http.js';

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
function cycle(url: string, hub: SseHub, i: number): Promise<void> {
  const ending = i % 4;
  const clientId = `c${i}`;
  let outcome = 'closed before sse.open';
  let refused: string | undefined;
  const raw = RawStream.open(`${url}${ending === 3 ? '/slow' : '/leak'}?room=r${i % 7}`, {
    headers: { 'x-sse-client-id': clientId },
    keepBytes: false,
    onHead: (status, stream) => {
      if (status === 200) return;
      refused = `cycle ${i}: answered ${status}`;
      stream.close();
    },
    onEvent: (event, stream) => {
      if (event.event === 'sse.close') {
        // The server ended the response; HTTP keep-alive would hold the socket for seconds.
        stream.close();
      } else if (event.event === 'sse.open') {
        outcome = 'opened';
        if (ending === 0) stream.close();
        else if (ending === 1) stream.reset();
        else void hub.close({ name: 'leak', clientId });
      }
    },
  });
  if (ending === 3) {
    outcome = 'reset while pending';
    raw.reset();
  }
  return raw.ended.then(() => {
    if (raw.error) outcome = `error ${raw.error.code}`;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (refused) throw new Error(refused);
  });
}

describe.each(platforms)('hardening: leaks ($name)', (platform) => {
  let connects = 0;

  beforeAll(() => {
    for (const key of Object.keys(outcomes)) delete outcomes[key];
    if (typeof gc !== 'function') {
      throw new Error('global.gc is missing: run jest with node --expose-gc (the npm test script does).');
    }
  });
  const t = useApp(platform, () => ({
    // 'reject': a refusal is a plain 503 here (the overload stream has a spec of its own).
    imports: [SseModule.forRoot({ maxConnections: MAX_CONNECTIONS, keepAlive: 0, overload: 'reject' })],
    controllers: [LeakController],
  }));
  let hub: SseHub;
  beforeAll(() => {
    hub = t.hub;
    hub.events$.subscribe((event) => {
      if (event.type === 'connect') connects++;
    });
  });
  /** Resolves once every connection that opened has closed again. */
  const quiescent = () => untilNoConnections(hub, 20_000);

  async function run(from: number, count: number): Promise<void> {
    for (let start = from; start < from + count; start += BATCH) {
      const batch: Array<Promise<void>> = [];
      for (let i = start; i < Math.min(start + BATCH, from + count); i++) batch.push(cycle(t.url, hub, i));
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
    const clients = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => t.open('/leak?room=x')));
    expect(clients.map((client) => client.status)).toEqual(new Array(MAX_CONNECTIONS).fill(200));
    await Promise.all(clients.map((client) => client.opened()));
    const refused = await t.open('/leak?room=x');
    expect(refused.status).toBe(503);
    for (const client of clients) client.close();
    await quiescent();
    expect(await hub.count()).toBe(0);
  }, 300_000);
});
