import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseHub, SseModule, SseTransportError } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { platforms, useApps, type TestApp } from '../support/app.js';
import type { SseClient } from '../support/sse-client.js';
import { settle, until } from '../support/wait.js';
import { canRestartRedis, describeRedis, redisClient, redisRequired, RedisServer, uniquePrefix } from '../support/redis.js';

@Controller()
class StreamController {
  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}

  @Get('health')
  health() {
    return 'ok';
  }
}

/** How long a caller waits before it retries a send that Redis refused (a caller's habit, not a wait for anything). */
const retryBackoff = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Redis going away in the middle of a stream. These tests kill and restart
 * their own redis-server, so they need the binary even when REDIS_URL is set.
 */
describeRedis('Redis transport: Redis drops, dies and comes back', () => {
  if (!canRestartRedis) {
    const why = 'no redis-server binary to kill and restart (REDIS_URL alone is not enough)';
    if (redisRequired) {
      it('needs a redis-server binary (SSE_HUB_REQUIRE_REDIS=1)', () => {
        throw new Error(`Redis outage tests cannot run: ${why}`);
      });
    } else {
      it.skip(why, () => undefined);
      console.warn(`SKIPPED Redis outage tests: ${why}.`);
    }
    return;
  }
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  // After the apps of the test are closed (inner hooks run first): a test that failed with Redis down leaves it up.
  afterEach(async () => {
    if (!server.running) await server.restart();
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe.each(platforms)('$name', (platform) => {
    const apps = useApps(platform);

    const startInstance = (keyPrefix: string, commandTimeout = 500) =>
      apps.start({
        imports: [SseModule.forRoot({ transport: new RedisTransport({ url: server.url, keyPrefix, commandTimeout, presenceTtl: 1500 }) })],
        controllers: [StreamController],
      });

    const open = async (app: TestApp, headers: Record<string, string> = {}) => (await app.connect('/events', { headers })).client;

    /** Two instances of one cluster, a client on each. */
    const twoInstances = async (suite: string, commandTimeout?: number) => {
      const keyPrefix = uniquePrefix(suite);
      const [a, b] = [await startInstance(keyPrefix, commandTimeout), await startInstance(keyPrefix, commandTimeout)];
      return { keyPrefix, a, b, hubs: [a.hub, b.hub], x: await open(a), y: await open(b) };
    };

    /** Sends `seq` from `hub`; records whether Redis accepted it. Never throws anything but SseTransportError. */
    const attempt = async (hub: SseHub, seq: number, accepted: number[], rejected: number[]) => {
      try {
        await hub.send({ name: 'events' }, { data: String(seq) });
        accepted.push(seq);
      } catch (error) {
        if (!(error instanceof SseTransportError)) throw error;
        rejected.push(seq);
      }
    };

    const received = (client: SseClient) => client.eventsOf('message').map((e) => Number(e.data));

    it('every connection to Redis dropped mid-stream: transports reconnect, nothing accepted is lost or doubled', async () => {
      const { hubs, x, y } = await twoInstances('drop');
      const admin = redisClient(server.url);
      const accepted: number[] = [];
      const rejected: number[] = [];
      try {
        for (let seq = 1; seq <= 300; seq++) {
          if (seq === 100 || seq === 200) {
            // Redis keeps its data; every client connection (readers included) is cut.
            await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
          }
          await attempt(hubs[seq % 2], seq, accepted, rejected);
          // A rejected send is retried as a new one a moment later, as a caller would.
          if (rejected.at(-1) === seq) await retryBackoff();
        }
      } finally {
        admin.disconnect();
      }
      expect(accepted.length).toBeGreaterThan(250);
      for (const client of [x, y]) {
        await client.waitFor(() => received(client).length >= accepted.length, `${accepted.length} events`);
        // Exactly the accepted sends, each once, in the order they were accepted.
        expect(received(client)).toEqual(accepted);
        expect(client.ended).toBe(false);
      }
    });

    it('Redis killed and restarted empty mid-stream: streams resume, failed sends rejected, accepted ones arrived once', async () => {
      const { keyPrefix, a, hubs, x, y } = await twoInstances('restart');
      const accepted: number[] = [];
      const rejected: number[] = [];
      let seq = 0;
      while (seq < 50) await attempt(hubs[++seq % 2], seq, accepted, rejected);
      // Every accepted send has been read by both instances before Redis dies.
      for (const client of [x, y]) await client.waitFor(() => received(client).length === accepted.length, 'the first events');
      const lastIdBefore = x.eventsOf('message').at(-1)!.id!;

      await server.stop();
      // While Redis is down: sends reject (bounded), local connections stay open, the apps keep serving.
      for (let i = 0; i < 20; i++) await attempt(hubs[++seq % 2], seq, accepted, rejected);
      expect(rejected.length).toBe(20);
      expect((await a.request('/health')).status).toBe(200);
      expect(x.ended || y.ended).toBe(false);

      await server.restart();
      // The transports reconnect by themselves: keep sending until Redis accepts again, then some more.
      const acceptedBefore = accepted.length;
      while (accepted.length < acceptedBefore + 50) {
        await attempt(hubs[++seq % 2], seq, accepted, rejected);
        if (accepted.length === acceptedBefore) await retryBackoff();
      }
      for (const client of [x, y]) {
        await client.waitFor(() => received(client).length >= accepted.length, `${accepted.length} events`);
        expect(received(client)).toEqual(accepted);
        expect(client.ended).toBe(false);
      }
      for (const failed of rejected) expect(received(x)).not.toContain(failed);

      // Presence is announced again to the empty Redis.
      expect(await settle(() => hubs[0].count(), 2)).toBe(2);
      expect(await hubs[1].count()).toBe(2);

      // History that only the dead Redis held is gone: an instance started now answers sse.gap.
      const late = await startInstance(keyPrefix);
      const resuming = await open(late, { 'last-event-id': lastIdBefore });
      const gap = JSON.parse((await resuming.next('sse.gap')).data);
      expect(gap.lastEventId).toBe(lastIdBefore);
    });

    it('a send held by a slow Redis past its deadline is refused and arrives nowhere', async () => {
      const keyPrefix = uniquePrefix('slow');
      const a = await startInstance(keyPrefix, 500);
      const hub = a.hub;
      const x = await open(a);
      const admin = redisClient(server.url);
      try {
        // Redis holds every write far longer than the send's deadline (half of commandTimeout).
        await admin.client('PAUSE', 2000, 'WRITE');
        await expect(hub.send({ name: 'events' }, { data: 'too late' })).rejects.toBeInstanceOf(SseTransportError);
        // Redis runs the held command once the pause ends: past its deadline, it refuses it.
        await admin.client('UNPAUSE');
        await hub.send({ name: 'events' }, { data: 'after' });
        await x.waitFor(() => x.eventsOf('message').length > 0, 'the next event');
        expect(x.eventsOf('message').map((e) => e.data)).toEqual(['after']);
      } finally {
        admin.disconnect();
      }
    });

    it('a send in flight when its connection is cut is asked again and arrives exactly once', async () => {
      const { a, x, y } = await twoInstances('inflight', 2000);
      const admin = redisClient(server.url);
      try {
        await admin.client('PAUSE', 300, 'WRITE');
        const sending = a.hub.send({ name: 'events' }, { data: 'in flight' });
        // The command waits inside Redis (a client blocked on EVALSHA); then its connection (and every other) is cut.
        const held = async () => String(await admin.client('LIST')).split('\n').some((line) => / flags=\w*b\w* /.test(line) && / cmd=evalsha /.test(line));
        await until(held, 'the send to be held inside Redis');
        await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        await expect(sending).resolves.toEqual({ delivered: 2 });
        await a.hub.send({ name: 'events' }, { data: 'next' });
        for (const client of [x, y]) {
          await client.waitFor(() => client.eventsOf('message').length >= 2, 'two events');
          expect(client.eventsOf('message').map((e) => e.data)).toEqual(['in flight', 'next']);
        }
      } finally {
        admin.disconnect();
      }
    });

    it('an app whose Redis is down at start-up starts anyway, rejects sends, and joins once Redis is up', async () => {
      const late = await RedisServer.start();
      await late.stop();
      const keyPrefix = uniquePrefix('boot');
      let app: TestApp | undefined;
      try {
        app = await apps.start({
          // Nothing listens on this port yet: bootstrap waits 5 × commandTimeout at most.
          imports: [SseModule.forRoot({ transport: new RedisTransport({ url: late.url, keyPrefix, commandTimeout: 200, presenceTtl: 1500 }) })],
          controllers: [StreamController],
        });
        const hub = app.hub;
        const x = await open(app);
        await expect(hub.send({ name: 'events' }, { data: 'nowhere' })).rejects.toBeInstanceOf(SseTransportError);
        await expect(hub.count()).rejects.toBeInstanceOf(SseTransportError);
        await late.restart();
        // Sent again until Redis accepts it, as a caller would.
        await until(() => hub.send({ name: 'events' }, { data: 'joined' }).then(() => true, () => false), 'Redis to accept a send');
        expect((await x.next('message')).data).toBe('joined');
        expect(x.eventsOf('message').map((e) => e.data)).toEqual(['joined']);
        // Its connection, opened while Redis was down, is announced once Redis is up.
        expect(await settle(() => hub.count(), 1)).toBe(1);
      } finally {
        await app?.close();
        await late.stop();
      }
    });
  });
});
