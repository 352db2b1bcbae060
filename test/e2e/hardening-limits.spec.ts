import { concat, NEVER, of } from 'rxjs';
import { Controller, ForbiddenException, Get, Post, Query } from '@nestjs/common';
import {
  SseConnection,
  SseContext,
  SseEventTooLargeError,
  SseHub,
  SseModule,
  type SseLifecycleEvent,
} from '../../lib/index.js';
import { platforms, request, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';
import { rawHttp } from '../support/raw-http.js';

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

/** Resolves at the next lifecycle event of this type (registered before the action that causes it). */
function nextLifecycle(hub: SseHub, type: SseLifecycleEvent['type']): Promise<SseLifecycleEvent> {
  return new Promise((resolve) => {
    const subscription = hub.events$.subscribe((event) => {
      if (event.type !== type) return;
      subscription.unsubscribe();
      resolve(event);
    });
  });
}

describe.each(platforms)('hardening: connection limits ($name)', (platform) => {
  let t: TestApp;
  let hub: SseHub;
  const open: SseClient[] = [];

  beforeAll(async () => {
    t = await startApp(platform, {
      // 'reject': the 503 answers (the default overload stream has a spec of its own, overload.spec.ts).
      imports: [SseModule.forRoot({ maxConnections: 3, maxConnectionsPerName: 2, maxEventBytes: 1000, overload: 'reject' })],
      controllers: [LimitedController],
    });
    hub = t.app.get(SseHub);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    const gone = open.splice(0).map(async (client) => {
      client.close();
      await client.end();
    });
    await Promise.all(gone);
  });

  async function connect(path: string): Promise<SseClient> {
    const client = await SseClient.open(`${t.url}${path}`);
    expect(client.status).toBe(200);
    await client.next(path === '/local' ? 'message' : 'sse.open');
    open.push(client);
    return client;
  }

  /** Closes a client and waits until the server has seen it go. */
  async function leave(client: SseClient): Promise<void> {
    const gone = nextLifecycle(hub, 'disconnect');
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
    expect(await hub.count({ name: 'a' })).toBe(2);
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
    const gone = nextLifecycle(hub, 'disconnect');
    expect(await hub.close({ name: 'a', clientId })).toBe(1);
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

  it('maxEventBytes: hub.send of an oversize event → SseEventTooLargeError, and nothing is sent', async () => {
    const client = await connect('/b');
    const answer = await request(`${t.url}/send-big?size=2000`, { method: 'POST' });
    expect(answer.body).toEqual({ refused: 'SseEventTooLargeError', isTyped: true });
    // The small event of the same batch did not go either: the next message is the one sent after.
    await hub.send({ name: 'b' }, { data: 'after' });
    expect((await client.next('message')).data).toBe('after');
    expect(client.eventsOf('message')).toHaveLength(1);
  });

  it('maxEventBytes: ctx.send of an oversize event rejects with SseEventTooLargeError, the stream goes on', async () => {
    const client = await SseClient.open(`${t.url}/big?size=2000`);
    await client.end();
    const refused = JSON.parse((await client.next('refused')).data);
    expect(refused.name).toBe('SseEventTooLargeError');
    expect(refused.message).toMatch(/exceeds maxEventBytes \(1000\)/);
    expect(client.eventsOf('message')).toHaveLength(0);
  });

  it('maxEventBytes: an event at the limit is sent', async () => {
    // 'data: ' + payload + '\n\n' = 1000 bytes.
    const client = await SseClient.open(`${t.url}/big?size=${1000 - 8}`);
    await client.end();
    expect((await client.next('message')).data).toHaveLength(992);
  });
});
