import { Controller, Get, Module, Post, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import net from 'node:net';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { platforms, request, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';

/** What a middleware that wraps res.write (as compression does) saw. */
const wrapped = { writes: 0, bytes: '' };

function wrapWrite(_req: unknown, res: ServerResponse, next: () => void): void {
  const write = res.write;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    wrapped.writes++;
    wrapped.bytes += String(chunk);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  next();
}

@Controller()
class FeedController {
  constructor(private readonly hub: SseHub) {}

  @Get('plain')
  @SseConnection({ name: 'plain' })
  plain() {}

  @Get('wrapped')
  @SseConnection({ name: 'wrapped' })
  wrapped() {}

  /** Three turns of sends, so that a stream writes several chunks after its first. */
  @Post('send')
  async send() {
    for (let turn = 0; turn < 3; turn++) {
      await this.hub.send({ name: ['plain', 'wrapped'] }, [{ data: `${turn}a` }, { data: `${turn}b` }]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return {};
  }
}

@Module({ controllers: [FeedController] })
class FeedModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(wrapWrite).forRoutes('wrapped');
  }
}

describe.each(platforms)('response writer ($name)', (platform) => {
  let t: TestApp;
  beforeAll(async () => {
    // Counted per platform: the previous app's shutdown wrote its sse.close through the wrapper too.
    wrapped.writes = 0;
    wrapped.bytes = '';
    t = await startApp(platform, { imports: [SseModule.forRoot({ keepAlive: 0 }), FeedModule] });
  });
  afterAll(() => t.close());

  it('writes the same stream to a plain response and through a wrapped res.write, which sees every chunk', async () => {
    const plain = await SseClient.open(`${t.url}/plain`);
    const viaWrapper = await SseClient.open(`${t.url}/wrapped`);
    try {
      await Promise.all([plain.opened(), viaWrapper.opened()]);
      await request(`${t.url}/send`, { method: 'POST' });
      const data = (client: SseClient) =>
        client.waitFor(() => {
          const events = client.events.filter((e) => e.event !== 'sse.open');
          return events.length >= 6 && events.map((e) => e.data);
        });
      const expected = ['0a', '0b', '1a', '1b', '2a', '2b'];
      expect(await data(plain)).toEqual(expected);
      expect(await data(viaWrapper)).toEqual(expected);
      // sse.open, then one chunk per tick: all through the wrapper, nothing around it.
      expect(wrapped.writes).toBe(4);
      for (const value of expected) expect(wrapped.bytes).toContain(`data: ${value}\n`);
    } finally {
      plain.close();
      viaWrapper.close();
    }
  });

  it('sends an HTTP/1.0 client (no chunked encoding) its events as plain body bytes', async () => {
    const { hostname, port } = new URL(t.url);
    const socket = net.connect(Number(port), hostname);
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (raw += data));
    socket.write(`GET /plain HTTP/1.0\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
    const until = async (text: string) => {
      const deadline = Date.now() + 10_000;
      while (!raw.includes(text) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(raw).toContain(text);
    };
    try {
      await until('event: sse.open');
      await request(`${t.url}/send`, { method: 'POST' });
      await until('data: 2b');
      const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      // Every line of the body is an SSE line: no chunk-size line slipped in.
      const lines = body.split('\n').filter((line) => line !== '');
      expect(lines.every((line) => /^(event|data|id|retry|:)/.test(line))).toBe(true);
      expect(lines.filter((line) => line.startsWith('data: ') && !line.includes('{'))).toEqual(
        ['0a', '0b', '1a', '1b', '2a', '2b'].map((value) => `data: ${value}`),
      );
    } finally {
      socket.destroy();
    }
  });
});
