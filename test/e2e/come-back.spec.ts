import { Controller, Get, Post } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import http2 from 'node:http2';
import net from 'node:net';
import { SseConnection, SseContext, SseHub, SseModule, type SseModuleOptions } from '../../lib/index.js';
import { platforms, startApp, type Platform, type TestApp } from '../support/app.js';
import { SseClientPool, type SseClient } from '../support/sse-client.js';
import { rawHttp } from '../support/raw-http.js';
import { untilNoConnections } from '../support/hub.js';

// "Come back later, spread out": a spread retry before sse.close shutdown / rotate / overloaded,
// the overload answer that a browser survives, and the HTTP connection let go with it.

@Controller()
class ComeBackController {
  constructor(private readonly hub: SseHub) {}

  @Get('a')
  @SseConnection({ name: 'a' })
  openA() {}

  @Get('fast')
  @SseConnection({ name: 'a', retry: 200 })
  openFast() {}

  @Get('cors')
  @SseConnection({ name: 'a', allowAllOrigins: true })
  openCors() {}

  @Get('ping')
  ping() {
    return 'pong';
  }

  @Post('close')
  async close() {
    return { closed: await this.hub.close({ name: 'a' }) };
  }

  @Get('self-close')
  @SseConnection({ name: 'self' })
  async selfClose(@SseContext() ctx: SseContext) {
    await ctx.close();
  }
}

const SPREAD = 4000;
const BASE = 1000;

async function start(platform: Platform, options: SseModuleOptions): Promise<TestApp> {
  return startApp(platform, { imports: [SseModule.forRoot(options)], controllers: [ComeBackController] });
}

/** The reason of the sse.close a client got (it must have got exactly one). */
const closeReason = (client: SseClient): string => {
  const closes = client.eventsOf('sse.close');
  expect(closes).toHaveLength(1);
  return JSON.parse(closes[0].data).reason;
};

/**
 * Opens a stream on a raw keep-alive socket, waits for the response's end, then asks for /ping on
 * the same socket: resolves 'closed' when the server let the connection go, 'kept' when it answered.
 */
function reuseAfterEnd(url: string, path: string): Promise<'closed' | 'kept'> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let text = '';
    let asked = false;
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('connect', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\nConnection: keep-alive\r\n\r\n`),
    );
    socket.on('data', (chunk: string) => {
      text += chunk;
      // The terminating chunk of the stream: ask again on the same socket.
      if (!asked && text.includes('\r\n0\r\n\r\n')) {
        asked = true;
        socket.write(`GET /ping HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
      }
      if (text.split('HTTP/1.1 ').length > 2) {
        socket.destroy();
        resolve('kept');
      }
    });
    socket.on('end', () => resolve('closed'));
    socket.on('close', () => resolve('closed'));
  });
}

describe.each(platforms)('come back later ($name)', (platform) => {
  it('200 connections and app.close(): each gets a retry drawn over [base, base + reconnectSpread], then sse.close "shutdown"', async () => {
    const t = await start(platform, { retry: BASE, reconnectSpread: SPREAD });
    const pool = new SseClientPool();
    try {
      const clients = await Promise.all(Array.from({ length: 200 }, () => pool.connect(`${t.url}/a`)));
      for (const { client } of clients) expect(client.retry).toBe(BASE);
      await t.close();
      await Promise.all(clients.map(({ client }) => client.end()));
      const retries = clients.map(({ client }) => {
        expect(closeReason(client)).toBe('shutdown');
        // The retry line comes with the sse.close frame, before it.
        expect(client.raw).toMatch(new RegExp(`retry: ${client.retry}\\nevent: sse\\.close\\ndata: \\{"reason":"shutdown"\\}\\n\\n$`));
        return client.retry!;
      });
      const min = Math.min(...retries);
      const max = Math.max(...retries);
      const mean = retries.reduce((sum, r) => sum + r, 0) / retries.length;
      console.info(
        `spread retry over 200 connections (${platform.name}): min ${min}, max ${max}, mean ${mean.toFixed(0)}, ` +
          `${new Set(retries).size} distinct; range [${BASE}, ${BASE + SPREAD}], mean expected ${BASE + SPREAD / 2}`,
      );
      for (const retry of retries) {
        expect(retry).toBeGreaterThanOrEqual(BASE);
        expect(retry).toBeLessThanOrEqual(BASE + SPREAD);
      }
      // Spread over the range, not bunched: these fail for a fixed or narrow retry
      // (and pass by chance only with a probability far below 10^-12).
      expect(min).toBeLessThan(BASE + SPREAD * 0.2);
      expect(max).toBeGreaterThan(BASE + SPREAD * 0.8);
      expect(mean).toBeGreaterThan(BASE + SPREAD * 0.35);
      expect(mean).toBeLessThan(BASE + SPREAD * 0.65);
      expect(new Set(retries).size).toBeGreaterThan(150);
    } finally {
      await pool.closeAll();
      await t.close().catch(() => undefined);
    }
  }, 60_000);

  describe("overload 'retry' (the default)", () => {
    let t: TestApp;
    let hub: SseHub;
    const pool = new SseClientPool();

    beforeAll(async () => {
      t = await start(platform, { maxConnections: 2, retry: 500, reconnectSpread: 1000 });
      hub = t.app.get(SseHub);
    });
    afterEach(async () => {
      await pool.closeAll();
      await untilNoConnections(hub);
    });
    afterAll(() => t.close());

    it('answers 200 with a spread retry and sse.close "overloaded" only, then ends; never registered nor counted', async () => {
      await pool.connect(`${t.url}/a`);
      await pool.connect(`${t.url}/a`);
      const refused = await pool.open(`${t.url}/a`);
      await refused.end();
      expect(refused.status).toBe(200);
      expect(refused.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(refused.headers['x-sse-client-id']).toBeUndefined();
      expect(refused.events.map((event) => [event.event, event.data])).toEqual([['sse.close', '{"reason":"overloaded"}']]);
      expect(refused.raw).toMatch(/^retry: \d+\nevent: sse\.close\ndata: \{"reason":"overloaded"\}\n\n$/);
      expect(refused.retry).toBeGreaterThanOrEqual(500);
      expect(refused.retry).toBeLessThanOrEqual(1500);
      // The HTTP connection goes with it (the reconnect passes the load balancer again).
      expect(refused.headers.connection).toBe('close');
      expect(await hub.count()).toBe(2);
      expect(hub.stats().connections).toBe(2);
    });

    it('on an allowAllOrigins route the overload answer carries Access-Control-Allow-Origin', async () => {
      await pool.connect(`${t.url}/a`);
      await pool.connect(`${t.url}/a`);
      const refused = await pool.open(`${t.url}/cors`);
      await refused.end();
      expect(refused.eventsOf('sse.close').map((event) => event.data)).toEqual(['{"reason":"overloaded"}']);
      expect(refused.headers['access-control-allow-origin']).toBe('*');
    });

    it('a HEAD while full gets the head alone; a slot that frees takes the very next request', async () => {
      const first = await pool.connect(`${t.url}/a`);
      await pool.connect(`${t.url}/a`);
      const head = await rawHttp(`${t.url}/a`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(head.body).toBe('');
      const gone = new Promise<void>((resolve) => {
        const subscription = hub.events$.subscribe((event) => {
          if (event.type !== 'disconnect') return;
          subscription.unsubscribe();
          resolve();
        });
      });
      first.client.close();
      await gone;
      const next = await pool.open(`${t.url}/a`);
      expect((await next.opened()).name).toBe('a');
      expect(await hub.count()).toBe(2);
    });
  });

  describe('rotation (maxConnectionAge) and the HTTP connection', () => {
    let t: TestApp;
    const pool = new SseClientPool();

    beforeAll(async () => {
      t = await start(platform, { maxConnectionAge: 300, retry: 200, reconnectSpread: 300 });
    });
    afterEach(() => pool.closeAll());
    afterAll(() => t.close());

    it('closes an old connection with a spread retry and sse.close "rotate"', async () => {
      const { client } = await pool.connect(`${t.url}/a`);
      await client.end();
      expect(closeReason(client)).toBe('rotate');
      expect(client.retry).toBeGreaterThanOrEqual(200);
      expect(client.retry).toBeLessThanOrEqual(500);
      // sse.open said 200; the rotation's own retry came last.
      expect(client.raw).toMatch(/^retry: 200\nevent: sse\.open\n/);
    });

    it('lets the HTTP/1.1 connection go after a rotation, and keeps it after a plain close (which proves the probe)', async () => {
      expect(await reuseAfterEnd(t.url, '/a')).toBe('closed');
      // A handler's own ctx.close() (reason "server") ends the response but keeps the socket for the next request.
      expect(await reuseAfterEnd(t.url, '/self-close')).toBe('kept');
    });
  });
});

describe('rotation on HTTP/2 (fastify, http2: true)', () => {
  it('sends GOAWAY with sse.close "rotate", so the next request opens a new connection', async () => {
    const t = await startApp(
      { name: 'fastify-h2', createAdapter: () => new FastifyAdapter({ http2: true }) },
      { imports: [SseModule.forRoot({ maxConnectionAge: 300, retry: 100, reconnectSpread: 100 })], controllers: [ComeBackController] },
    );
    const session = http2.connect(t.url);
    try {
      let goaway = false;
      session.once('goaway', () => (goaway = true));
      const stream = session.request({ ':path': '/a', accept: 'text/event-stream' });
      stream.setEncoding('utf8');
      let text = '';
      stream.on('data', (chunk: string) => (text += chunk));
      await new Promise<void>((resolve) => stream.on('end', () => resolve()));
      expect(text).toMatch(/event: sse\.close\ndata: \{"reason":"rotate"\}\n\n$/);
      // The server sends GOAWAY before the stream's last frame, so it has arrived by now.
      expect(goaway).toBe(true);
    } finally {
      session.destroy();
      await t.close();
    }
  });
});
