import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseHub, SseModule, SseTransportError } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { express, request, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';
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

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  let apps: TestApp[] = [];
  let hubs: SseHub[] = [];
  const clients: SseClient[] = [];

  const startInstance = async (keyPrefix: string, commandTimeout = 500) => {
    const app = await startApp(express, {
      imports: [SseModule.forRoot({ transport: new RedisTransport({ url: server.url, keyPrefix, commandTimeout, presenceTtl: 1500 }) })],
      controllers: [StreamController],
    });
    apps.push(app);
    return app;
  };

  const open = async (app: TestApp, headers: Record<string, string> = {}) => {
    const client = await SseClient.open(`${app.url}/events`, { headers });
    clients.push(client);
    await client.opened();
    return client;
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

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const app of apps.splice(0)) await app.close();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('every connection to Redis dropped mid-stream: transports reconnect, nothing accepted is lost or doubled', async () => {
    const keyPrefix = uniquePrefix('drop');
    const [a, b] = [await startInstance(keyPrefix), await startInstance(keyPrefix)];
    hubs = apps.map((t) => t.app.get(SseHub));
    const x = await open(a);
    const y = await open(b);
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
        if (rejected.at(-1) === seq) await pause(20);
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
    const keyPrefix = uniquePrefix('restart');
    const [a, b] = [await startInstance(keyPrefix), await startInstance(keyPrefix)];
    hubs = apps.map((t) => t.app.get(SseHub));
    const x = await open(a);
    const y = await open(b);
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
    expect((await request(`${a.url}/health`)).status).toBe(200);
    expect(x.ended || y.ended).toBe(false);

    await server.restart();
    // The transports reconnect by themselves: keep sending until Redis accepts again, then some more.
    const acceptedBefore = accepted.length;
    while (accepted.length < acceptedBefore + 50) {
      await attempt(hubs[++seq % 2], seq, accepted, rejected);
      if (accepted.length === acceptedBefore) await pause(20);
    }
    for (const client of [x, y]) {
      await client.waitFor(() => received(client).length >= accepted.length, `${accepted.length} events`);
      expect(received(client)).toEqual(accepted);
      expect(client.ended).toBe(false);
    }
    for (const failed of rejected) expect(received(x)).not.toContain(failed);

    // Presence is announced again to the empty Redis.
    for (let i = 0; i < 200 && (await hubs[0].count()) !== 2; i++) await pause(25);
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
    const hub = a.app.get(SseHub);
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
    const keyPrefix = uniquePrefix('inflight');
    const [a, b] = [await startInstance(keyPrefix, 2000), await startInstance(keyPrefix, 2000)];
    const x = await open(a);
    const y = await open(b);
    const admin = redisClient(server.url);
    try {
      await admin.client('PAUSE', 300, 'WRITE');
      const sending = a.app.get(SseHub).send({ name: 'events' }, { data: 'in flight' });
      await pause(50);
      // The command waits inside Redis; its connection (and every other) is cut.
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await expect(sending).resolves.toEqual({ delivered: 2 });
      await a.app.get(SseHub).send({ name: 'events' }, { data: 'next' });
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
    const app = await startApp(express, {
      // Nothing listens on this port yet: bootstrap waits 5 × commandTimeout at most.
      imports: [SseModule.forRoot({ transport: new RedisTransport({ url: late.url, keyPrefix, commandTimeout: 200, presenceTtl: 1500 }) })],
      controllers: [StreamController],
    });
    apps.push(app);
    try {
      const hub = app.app.get(SseHub);
      const x = await open(app);
      await expect(hub.send({ name: 'events' }, { data: 'nowhere' })).rejects.toBeInstanceOf(SseTransportError);
      await expect(hub.count()).rejects.toBeInstanceOf(SseTransportError);
      await late.restart();
      for (let i = 0; i < 400; i++) {
        const accepted = await hub.send({ name: 'events' }, { data: 'joined' }).then(() => true, () => false);
        if (accepted) break;
        await pause(25);
      }
      expect((await x.next('message')).data).toBe('joined');
      expect(x.eventsOf('message').map((e) => e.data)).toEqual(['joined']);
      // Its connection, opened while Redis was down, is announced once Redis is up.
      for (let i = 0; i < 200 && (await hub.count()) !== 1; i++) await pause(25);
      expect(await hub.count()).toBe(1);
    } finally {
      for (const client of clients.splice(0)) client.close();
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      await late.stop();
    }
  });
});
