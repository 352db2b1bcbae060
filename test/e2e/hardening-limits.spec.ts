import { concat, NEVER, of } from 'rxjs';
import { Controller, ForbiddenException, Get, Post, Query } from '@nestjs/common';
import { SseConnection, SseContext, SseEventTooLargeError, SseHub, SseModule } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { nextLifecycle } from '../support/hub.js';
import { rawHttp } from '../support/raw-http.js';
import type { SseClient } from '../support/sse-client.js';

@Controller()
class LimitedController {
  constructor(private readonly hub: SseHub) {}

  @Get('a')
  @SseConnection({ name: 'a', retry: 2500 })
  openA() {}

  @Get('b')
  @SseConnection({ name: 'b' })
  openB() {}

  @Get('c')
  @SseConnection({ name: 'c' })
  openC() {}

  @Get('local')
  @SseConnection({ name: 'b', scope: 'local' })
  openLocal() {
    // One event, then open until the client goes away.
    return concat(of({ data: 'held' }), NEVER);
  }

  @Get('refused')
  @SseConnection({ name: 'a' })
  refuse() {
    throw new ForbiddenException('not you');
  }

  @Get('big')
  @SseConnection({ name: 'big', scope: 'local' })
  async big(@SseContext() ctx: SseContext, @Query('size') size: string) {
    try {
      await ctx.send({ data: 'x'.repeat(Number(size)) });
    } catch (error) {
      await ctx.send({ event: 'refused', data: { name: (error as Error).name, message: (error as Error).message } });
    }
  }

  @Post('send-big')
  async sendBig(@Query('size') size: string) {
    try {
      return await this.hub.send({ name: 'b' }, [{ data: 'small' }, { data: 'x'.repeat(Number(size)) }]);
    } catch (error) {
      return { refused: (error as Error).name, isTyped: error instanceof SseEventTooLargeError };
    }
  }
}

describe.each(platforms)('hardening: connection limits ($name)', (platform) => {
  // After each test the helper waits until no connection is open, locals included: the next test has every slot.
  const t = useApp(platform, () => ({
    // 'reject': the 503 answers (the default overload stream has a spec of its own).
    imports: [SseModule.forRoot({ maxConnections: 3, maxConnectionsPerName: 2, maxEventBytes: 1000, overload: 'reject' })],
    controllers: [LimitedController],
  }));
  const open: SseClient[] = [];
  afterEach(() => {
    open.length = 0;
  });

  async function connect(path: string): Promise<SseClient> {
    const { client } = await t.connect(path);
    if (path === '/local') await client.next('message');
    open.push(client);
    return client;
  }

  /** Closes a client and waits until the server has seen it go. */
  async function leave(client: SseClient): Promise<void> {
    const gone = nextLifecycle(t.hub, 'disconnect');
    client.close();
    await gone;
    open.splice(open.indexOf(client), 1);
  }

  it('maxConnectionsPerName: the third of a name → 503 + Retry-After from the route retry, before any stream', async () => {
    await connect('/a');
    await connect('/a');
    const refused = await rawHttp(`${t.url}/a`, { headers: { accept: 'text/event-stream' } });
    expect(refused.stream).toBe(false);
    expect(refused.status).toBe(503);
    // retry 2500 ms → 3 s, a positive integer.
    expect(refused.headers['retry-after']).toBe('3');
    expect(JSON.parse(refused.body).message).toMatch(/name "a" is full \(2 open connections\)/);
    expect(await t.hub.count({ name: 'a' })).toBe(2);
  });

  it('maxConnections: a fourth on any name → 503 + Retry-After (default 5 s without a retry)', async () => {
    await connect('/a');
    await connect('/b');
    await connect('/c');
    const refused = await rawHttp(`${t.url}/c`);
    expect(refused.status).toBe(503);
    expect(refused.stream).toBe(false);
    expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.body).message).toMatch(/this server is full \(3 open connections\)/);
  });

  it('local connections count too', async () => {
    await connect('/local');
    await connect('/local');
    const refused = await rawHttp(`${t.url}/b`);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).message).toMatch(/name "b" is full/);
  });

  it('a client that goes away frees its slot at once', async () => {
    const first = await connect('/a');
    await connect('/b');
    await connect('/c');
    expect((await rawHttp(`${t.url}/b`)).status).toBe(503);
    await leave(first);
    // The very next request after the server saw it go is accepted.
    await connect('/b');
  });

  it('a connection closed by the server frees its slot at once', async () => {
    const client = await connect('/a');
    await connect('/a');
    const { clientId } = await client.opened();
    const gone = nextLifecycle(t.hub, 'disconnect');
    expect(await t.hub.close({ name: 'a', clientId })).toBe(1);
    await gone;
    await connect('/a');
  });

  it('refused requests (handler throws before the stream, bad input, 503 itself) leak no slot', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await rawHttp(`${t.url}/refused`)).status).toBe(403);
      expect((await rawHttp(`${t.url}/a?clientId=%0A`)).status).toBe(400);
    }
    await connect('/a');
    await connect('/b');
    await connect('/c');
    for (let i = 0; i < 5; i++) expect((await rawHttp(`${t.url}/b`)).status).toBe(503);
    await leave(open[2]);
    await connect('/b');
  });

  it('maxEventBytes: t.hub.send of an oversize event → SseEventTooLargeError, and nothing is sent', async () => {
    const client = await connect('/b');
    const answer = await t.request('/send-big?size=2000', { method: 'POST' });
    expect(answer.body).toEqual({ refused: 'SseEventTooLargeError', isTyped: true });
    // The small event of the same batch did not go either: the next message is the one sent after.
    await t.hub.send({ name: 'b' }, { data: 'after' });
    expect((await client.next('message')).data).toBe('after');
    expect(client.eventsOf('message')).toHaveLength(1);
  });

  it('maxEventBytes: ctx.send of an oversize event rejects with SseEventTooLargeError, the stream goes on', async () => {
    const client = await t.open('/big?size=2000');
    await client.end();
    // Refused, not sent: the handler's catch sent 'refused' instead, and the stream ended as usual.
    expect(client.events.map((e) => e.event ?? 'message')).toEqual(['sse.open', 'refused', 'sse.close']);
    const refused = JSON.parse(client.eventsOf('refused')[0].data);
    expect(refused.name).toBe('SseEventTooLargeError');
    expect(refused.message).toMatch(/exceeds maxEventBytes \(1000\)/);
  });

  it('maxEventBytes: an event at the limit is sent', async () => {
    // 'data: ' + payload + '\n\n' = 1000 bytes.
    const client = await t.open(`/big?size=${1000 - 8}`);
    await client.end();
    expect(client.events.map((e) => e.event ?? 'message')).toEqual(['sse.open', 'message', 'sse.close']);
    expect(client.eventsOf('message')[0].data).toHaveLength(992);
  });
});
