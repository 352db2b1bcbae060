import { Controller, Get, Module, Post, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { RawStream } from '../support/raw-http.js';
import type { SseClient } from '../support/sse-client.js';
import { parseSse } from '../support/sse-parser.js';

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
  beforeAll(() => {
    // Counted per platform: the previous app's shutdown wrote its sse.close through the wrapper too.
    wrapped.writes = 0;
    wrapped.bytes = '';
  });
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot({ keepAlive: 0 }), FeedModule] }));
  const expected = ['0a', '0b', '1a', '1b', '2a', '2b'];

  it('writes the same stream to a plain response and through a wrapped res.write, which sees every chunk', async () => {
    const plain = (await t.connect('/plain')).client;
    const viaWrapper = (await t.connect('/wrapped')).client;
    await t.request('/send', { method: 'POST' });
    const data = (client: SseClient) => client.collect('message', 6).then((events) => events.map((e) => e.data));
    expect(await data(plain)).toEqual(expected);
    expect(await data(viaWrapper)).toEqual(expected);
    // sse.open, then one chunk per tick: all through the wrapper, nothing around it.
    expect(wrapped.writes).toBe(4);
    expect(parseSse(wrapped.bytes).typesAndData()).toEqual([['sse.open', expect.any(String)], ...expected.map((d) => ['message', d])]);
  });

  it('sends an HTTP/1.0 client (no chunked encoding) its events as plain body bytes', async () => {
    const raw = RawStream.open(`${t.url}/plain`, { http10: true });
    try {
      await raw.next('sse.open');
      await t.request('/send', { method: 'POST' });
      await raw.waitFor(() => raw.events.length === 1 + expected.length, 'the six events');
      // Every line of the body is an SSE line: no chunk-size line slipped in.
      const lines = raw.body.split('\n').filter((line) => line !== '');
      expect(lines.every((line) => /^(event|data|id|retry|:)/.test(line))).toBe(true);
      expect(raw.chunks).toBe(0);
      expect(raw.events.slice(1).map((e) => e.data)).toEqual(expected);
    } finally {
      raw.close();
    }
  });
});
