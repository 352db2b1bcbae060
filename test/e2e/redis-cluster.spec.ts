import { Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SseBroadcastLevelError, SseConnection, SseContext, SseHub, SseModule } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { platforms, useApps, useCluster } from '../support/app.js';
import { queryParam } from '../support/request-params.js';
import { describeRedis, uniquePrefix, useRedisServer } from '../support/redis.js';
import { settle } from '../support/wait.js';

@Controller()
class StreamController {
  @Get('events')
  @SseConnection({ name: 'events', group: (req) => queryParam(req, 'group') })
  events() {}

  @Get('alerts')
  @SseConnection({ name: 'alerts' })
  alerts() {}

  @Post('say')
  async say(@SseContext() ctx: SseContext) {
    await ctx.send({ data: `said to ${ctx.clientId}` });
    return { group: ctx.group ?? null, lastEventId: ctx.lastEventId ?? null, connectedAt: ctx.connectedAt.getTime() };
  }

  @Post('hang-up')
  async hangUp(@SseContext() ctx: SseContext) {
    await ctx.close();
  }

  @Get('greet')
  @SseConnection({ name: 'greet' })
  async greet(@SseContext() ctx: SseContext) {
    await ctx.send({ data: `welcome ${ctx.clientId}` });
  }
}

const sseOptions = (url: string, keyPrefix: string) => ({
  transport: new RedisTransport({ url, keyPrefix }),
  broadcastLevels: { alerts: 'group' as const },
});

// Addressing, queries, close, client-id replacement and Last-Event-ID replay across instances are
// conformance cases (test/support/transport-conformance.ts); here is what only a Redis cluster has.
describeRedis('Redis transport: three instances in one process', () => {
  const redis = useRedisServer();

  describe.each(platforms)('$name', (platform) => {
    let keyPrefix: string | undefined;
    const options = () => sseOptions(redis.url, (keyPrefix ??= uniquePrefix(`cluster-${platform.name}`)));
    // Apps a test starts on the same cluster (declared first: closed before the cluster settles).
    const more = useApps(platform);
    const apps = useCluster(platform, 3, (i) => ({
      // The third instance is configured asynchronously.
      imports: [i === 2 ? SseModule.forRootAsync({ useFactory: options }) : SseModule.forRoot(options())],
      controllers: [StreamController],
    }));
    let hubs: SseHub[];
    beforeAll(() => {
      hubs = apps.map((app) => app.hub);
    });
    const connect = (instance: number, path: string) => apps[instance].connect(path);

    it('broadcast levels hold on every instance', async () => {
      const alert = await connect(2, '/alerts');
      await settle(() => hubs[0].count(), 1);
      for (const hub of hubs) {
        expect(hub.testBroadcastLevel({ name: 'alerts' })).toBe(false);
        await expect(hub.send({ name: ['events', 'alerts'] }, { data: 'refused' })).rejects.toBeInstanceOf(SseBroadcastLevelError);
      }
      expect(await hubs[0].send({ name: 'alerts', clientId: alert.clientId }, { data: 'allowed' })).toEqual({ delivered: 1 });
      expect((await alert.client.next('message')).data).toBe('allowed');
      expect(alert.client.dataOf('message')).toEqual(['allowed']);
    });

    const idOrder = (a: string, b: string) => {
      const [am, as] = a.split('-').map(Number);
      const [bm, bs] = b.split('-').map(Number);
      return am - bm || as - bs;
    };

    it('event ids order the sends of every instance in one cluster-wide order', async () => {
      const peer = await connect(1, '/events');
      await settle(() => hubs[0].count(), 1);
      // Sends from all three instances, interleaved, some of several events.
      const sends: Array<Promise<unknown>> = [];
      for (let i = 0; i < 30; i++) {
        const hub = hubs[i % 3];
        sends.push(i % 5 === 0 ? hub.send({ name: 'events' }, [{ data: `${i}a` }, { data: `${i}b` }]) : hub.send({ name: 'events' }, { data: `${i}` }));
      }
      await Promise.all(sends);
      const events = await peer.client.collect('message', 36);
      const ids = events.map((e) => e.id!);
      expect(new Set(ids).size).toBe(36);
      expect([...ids].sort(idOrder)).toEqual(ids);
      // Each of the 30 sends arrived exactly once, the events of one send together and in order.
      const data = events.map((e) => e.data);
      for (let i = 0; i < 30; i++) {
        if (i % 5 === 0) expect(data.indexOf(`${i}b`)).toBe(data.indexOf(`${i}a`) + 1);
        else expect(data.filter((d) => d === `${i}`)).toHaveLength(1);
      }
    });

    it('an instance started later replays sends made before it started; an unknown id gets sse.gap', async () => {
      const first = await connect(0, '/events');
      await settle(() => hubs[1].count(), 1);
      await hubs[0].send({ name: 'events' }, { data: 'before' });
      const lastEventId = (await first.client.next('message')).id!;
      first.client.close();
      await hubs[1].send({ name: 'events' }, { data: 'while away' });

      const late = await more.start({ imports: [SseModule.forRoot(options())], controllers: [StreamController] });
      const back = await late.open('/events', { headers: { 'last-event-id': lastEventId } });
      expect((await back.next('message')).data).toBe('while away');
      expect(back.dataOf('message')).toEqual(['while away']);
      const lost = await late.open('/events', { headers: { 'last-event-id': '1-0' } });
      const gap = JSON.parse((await lost.next('sse.gap')).data);
      expect(gap.lastEventId).toBe('1-0');
      expect(typeof gap.oldestAvailableId).toBe('string');
    });

    it('ctx.send goes through the cluster history: replay elsewhere holds it only for its own client', async () => {
      const first = await apps[0].open('/greet?clientId=g1');
      const welcome = await first.next('message');
      expect(welcome.data).toBe('welcome g1');
      first.close();
      await settle(() => hubs[1].exists({ name: 'greet', clientId: 'g1' }), false);
      const other = await apps[2].open('/greet?clientId=g2');
      expect((await other.next('message')).data).toBe('welcome g2');
      await hubs[2].send({ name: 'greet' }, { data: 'news' });

      const back = await apps[1].open('/greet?clientId=g1', { headers: { 'last-event-id': welcome.id! } });
      await back.waitFor(() => back.eventsOf('message').length >= 2, 'replay and welcome');
      expect(back.eventsOf('message').map((e) => e.data)).toEqual(['news', 'welcome g1']);
    });

    it('@SseContext() on an ordinary route reaches a connection open on another instance', async () => {
      const before = Date.now();
      const peer = await apps[0].open('/events?group=red&clientId=far-away', { headers: { 'last-event-id': 'an-old-id' } });
      await peer.opened();
      await settle(() => hubs[1].exists({ name: 'events', clientId: 'far-away' }), true);
      const headers = { 'x-sse-name': 'events', 'x-sse-client-id': 'far-away' };

      const said = await apps[1].request('/say', { method: 'POST', headers });
      expect(said.status).toBe(201);
      expect(said.body.group).toBe('red');
      expect(said.body.lastEventId).toBe('an-old-id');
      expect(said.body.connectedAt).toBeGreaterThanOrEqual(before - 1000);
      // An unknown last id replays what the history holds first; the reply comes after it.
      await peer.waitFor(() => peer.dataOf().includes('said to far-away'), 'the reply');

      expect((await apps[2].request('/say', { method: 'POST', headers: { ...headers, 'x-sse-group': 'blue' } })).status).toBe(404);
      expect((await apps[2].request('/say', { method: 'POST', headers: { ...headers, 'x-sse-client-id': 'nobody' } })).status).toBe(404);
      expect((await apps[2].request('/say', { method: 'POST', headers: { 'x-sse-client-id': 'far-away' } })).status).toBe(400);

      expect((await apps[2].request('/hang-up', { method: 'POST', headers })).status).toBe(201);
      await peer.end();
      expect(JSON.parse((await peer.next('sse.close')).data)).toEqual({ reason: 'server' });
      await settle(() => hubs[1].exists({ name: 'events', clientId: 'far-away' }), false);
      expect((await apps[1].request('/say', { method: 'POST', headers })).status).toBe(404);
    });

    it('a process without an HTTP server sends into the cluster', async () => {
      @Module({ imports: [SseModule.forRoot({ transport: new RedisTransport({ url: redis.url, keyPrefix: keyPrefix! }) })] })
      class WorkerModule {}
      const worker = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error', 'warn'] });
      try {
        const peer = await connect(1, '/events');
        await settle(() => hubs[0].count(), 1);
        const hub = worker.get(SseHub);
        expect(await hub.send({ name: 'events' }, { data: 'from the worker' })).toEqual({ delivered: 1 });
        expect((await peer.client.next('message')).data).toBe('from the worker');
        expect(await hub.count()).toBe(1);
      } finally {
        await worker.close();
      }
    });
  });
});
