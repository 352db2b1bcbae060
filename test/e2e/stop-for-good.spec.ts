import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseContext, SseHub, SseModule, type SseModuleOptions, type SseRequest } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { express, platforms, startApp, type Platform, type TestApp } from '../support/app.js';
import { SseClientPool, type SseClient } from '../support/sse-client.js';
import { rawHttp } from '../support/raw-http.js';
import { describeRedis, uniquePrefix, useRedis, type RedisServer } from '../support/redis.js';

// "Stop for good": close(…, { reconnect: false }) sends sse.close with a stop token as its id, and a
// reconnect offering that token, or the client id, is answered 204 (which ends a browser's EventSource).

@Controller()
class StopController {
  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}

  @Get('self-stop')
  @SseConnection({ name: 'events' })
  async selfStop(@SseContext() ctx: SseContext) {
    await ctx.close({ reconnect: false });
  }

  /** Client ids derived from the request (here the user's name): one stop must not lock the user out. */
  @Get('derived')
  @SseConnection<SseRequest>({ name: 'derived', clientId: (req) => String(req.query.user) })
  derived() {}
}

const SECRET = 'stop-token-secret-0123456789';
const FINAL_CLOSE = /\nid: (sse-stop:[^\n]+)\nevent: sse\.close\ndata: \{"reason":"server","reconnect":false\}\n\n$/;

async function start(platform: Platform, options: SseModuleOptions = {}): Promise<TestApp> {
  return startApp(platform, { imports: [SseModule.forRoot(options)], controllers: [StopController] });
}

/** The stop token a closed client got as the id of its last sse.close. */
async function stopTokenOf(client: SseClient): Promise<string> {
  await client.end();
  const token = FINAL_CLOSE.exec(client.raw)?.[1];
  expect(token).toBeDefined();
  // The browser keeps it as its last event id, and offers it when it reconnects.
  expect(client.lastEventId).toBe(token);
  return token!;
}

const stream = (url: string, headers: Record<string, string> = {}) => rawHttp(url, { headers: { accept: 'text/event-stream', ...headers } });

describe.each(platforms)('stop for good ($name)', (platform) => {
  let t: TestApp;
  let hub: SseHub;
  const pool = new SseClientPool();

  beforeAll(async () => {
    t = await start(platform);
    hub = t.app.get(SseHub);
  });
  afterEach(() => pool.closeAll());
  afterAll(() => t.close());

  it('hub.close(…, { reconnect: false }): a reconnect offering the stop token or the client id gets 204, others a stream', async () => {
    const { client, clientId } = await pool.connect(`${t.url}/events`);
    const other = await pool.connect(`${t.url}/events`);
    expect(await hub.close({ name: 'events', clientId }, { reconnect: false })).toBe(1);
    const token = await stopTokenOf(client);

    for (const answer of [
      await stream(`${t.url}/events`, { 'last-event-id': token }),
      await stream(`${t.url}/events?lastEventId=${encodeURIComponent(token)}`),
      await stream(`${t.url}/events?clientId=${encodeURIComponent(clientId)}`),
      await stream(`${t.url}/events`, { 'x-sse-client-id': clientId }),
    ]) {
      expect(answer.status).toBe(204);
      expect(answer.body).toBe('');
    }
    // Only that client: another id, and a token whose MAC was changed, open streams.
    expect((await stream(`${t.url}/events?clientId=${encodeURIComponent(other.clientId)}`)).status).toBe(200);
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect((await stream(`${t.url}/events`, { 'last-event-id': forged })).status).toBe(200);
  });

  it('a plain hub.close() lets the client come back (the same reconnects open streams)', async () => {
    const { client, clientId } = await pool.connect(`${t.url}/events`);
    expect(await hub.close({ name: 'events', clientId })).toBe(1);
    await client.end();
    expect(client.eventsOf('sse.close').map((event) => event.data)).toEqual(['{"reason":"server"}']);
    expect(client.raw).not.toContain('sse-stop:');
    expect((await stream(`${t.url}/events?clientId=${encodeURIComponent(clientId)}`)).status).toBe(200);
  });

  it('ctx.close({ reconnect: false }) stops its own client the same way', async () => {
    const client = await pool.open(`${t.url}/self-stop`);
    const { clientId } = await client.opened();
    const token = await stopTokenOf(client);
    expect((await stream(`${t.url}/events`, { 'last-event-id': token })).status).toBe(204);
    expect((await stream(`${t.url}/events?clientId=${encodeURIComponent(clientId)}`)).status).toBe(204);
  });

  it('a client id named in the target is stopped even when it is not connected', async () => {
    expect(await hub.close({ name: 'events', clientId: 'away-for-now' }, { reconnect: false })).toBe(0);
    expect((await stream(`${t.url}/events?clientId=away-for-now`)).status).toBe(204);
  });

  it('on a route that derives client ids, only the stop token counts: the user is not locked out', async () => {
    const { client, clientId } = await pool.connect(`${t.url}/derived?user=alice`);
    expect(clientId).toBe('alice');
    await hub.close({ name: 'derived', clientId }, { reconnect: false });
    const token = await stopTokenOf(client);
    expect((await stream(`${t.url}/derived?user=alice`)).status).toBe(200);
    expect((await stream(`${t.url}/derived?user=alice`, { 'last-event-id': token })).status).toBe(204);
  });
});

describe('stop tokens signed with signing.secret', () => {
  it('verify on another instance with the same secret alone (no shared transport), and not with another secret', async () => {
    const a = await start(express, { signing: { secret: SECRET } });
    const b = await start(express, { signing: { secret: SECRET } });
    const c = await start(express, { signing: { secret: `${SECRET}-other` } });
    const pool = new SseClientPool();
    try {
      const { client, clientId } = await pool.connect(`${a.url}/events`);
      await a.app.get(SseHub).close({ name: 'events', clientId }, { reconnect: false });
      const token = await stopTokenOf(client);
      expect((await stream(`${b.url}/events`, { 'last-event-id': token })).status).toBe(204);
      expect((await stream(`${c.url}/events`, { 'last-event-id': token })).status).toBe(200);
      // A token is for its name: the same one on another name's route opens a stream.
      expect((await stream(`${b.url}/derived?user=bob`, { 'last-event-id': token })).status).toBe(200);
    } finally {
      await pool.closeAll();
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});

describeRedis('stop for good across instances (Redis, no signing)', () => {
  let redis: { url: string; server: RedisServer | undefined };
  let apps: TestApp[];
  const pool = new SseClientPool();

  beforeAll(async () => {
    redis = await useRedis();
    const keyPrefix = uniquePrefix('stop');
    apps = [];
    for (let i = 0; i < 2; i++) apps.push(await start(express, { transport: new RedisTransport({ url: redis.url, keyPrefix }) }));
  });
  afterEach(() => pool.closeAll());
  afterAll(async () => {
    for (const t of apps ?? []) await t.close();
    await redis?.server?.stop();
  });

  it('a close for good issued on one instance reaches the other, whose token and client id are then refused everywhere', async () => {
    const [a, b] = apps;
    const { client, clientId } = await pool.connect(`${a.url}/events`);
    // Issued on B, carried out on A (the stream's entry for a close for good).
    expect(await b.app.get(SseHub).close({ name: 'events', clientId: [clientId, 'never-connected'] }, { reconnect: false })).toBe(1);
    const token = await stopTokenOf(client);
    for (const t of apps) {
      // Unsigned, A's token verifies on A by its key and on B through Redis.
      expect((await stream(`${t.url}/events`, { 'last-event-id': token })).status).toBe(204);
      expect((await stream(`${t.url}/events?clientId=${encodeURIComponent(clientId)}`)).status).toBe(204);
      expect((await stream(`${t.url}/events?clientId=never-connected`)).status).toBe(204);
    }
    expect((await stream(`${b.url}/events?clientId=someone-else`)).status).toBe(200);
  });
});
