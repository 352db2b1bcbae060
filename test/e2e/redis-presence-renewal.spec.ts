import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { express, useApps } from '../support/app.js';
import { canRestartRedis, describeRedis, redisClient, redisRequired, RedisServer, uniquePrefix } from '../support/redis.js';
import { settle } from '../support/wait.js';

@Controller()
class StreamController {
  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}
}

/** Renewals every 50 ms, so that several fall while Redis holds a claim back. */
const PRESENCE_TTL = 150;
/** How long Redis holds back scripts (CLIENT PAUSE ... WRITE): several renewal periods. */
const HOLD_MS = 600;

/**
 * A renewal that comes while a connection's first claim is still on its way
 * must not claim the client id a second time: the second claim would replace
 * the first, and the connection would end with `replaced` although no other
 * connection used its id (found by bench/scale-out: a few of 3,000 clients).
 * Holding Redis back needs a Redis of the test's own (CLIENT PAUSE stops
 * every client of the server), so this runs on a private redis-server.
 */
describeRedis('Redis transport: presence renewal of a claim still on its way', () => {
  if (!canRestartRedis) {
    const why = 'no redis-server binary for a private server (CLIENT PAUSE would stop a shared one)';
    if (redisRequired) {
      it('needs a redis-server binary (SSE_HUB_REQUIRE_REDIS=1)', () => {
        throw new Error(`presence renewal test cannot run: ${why}`);
      });
    } else {
      it.skip(why, () => undefined);
    }
    return;
  }
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const apps = useApps(express);

  it('claims a client id once, however many renewals fall while the claim waits', async () => {
    const keyPrefix = uniquePrefix('presence-renewal');
    const app = await apps.start({
      imports: [SseModule.forRoot({ transport: new RedisTransport({ url: server.url, keyPrefix, presenceTtl: PRESENCE_TTL }) })],
      controllers: [StreamController],
    });
    const hub = app.app.get(SseHub);
    const admin = redisClient(server.url);
    try {
      // Scripts (claims, renewals, sends) wait in Redis; subscriptions and reads go through.
      await admin.call('CLIENT', 'PAUSE', String(HOLD_MS), 'WRITE');
      const { client } = await app.connect('/events');
      // A write of our own is held back too: once it is through, the claim and every renewal since are applied.
      await admin.set(`${keyPrefix}probe`, '1');
      expect(await settle(() => hub.count({ name: 'events' }), 1)).toBe(1);
      // A replacement would come on the name's channel before this send: the client would be gone.
      await hub.send({ name: 'events' }, { event: 'probe', data: 'after the renewals' });
      await client.next('probe');
      expect(client.eventsOf('sse.close')).toEqual([]);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
  });
});
