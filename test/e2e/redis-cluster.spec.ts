import { Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SseConnection, SseContext, SseHub, SseModule, SseBroadcastLevelError } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { express, request, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';
import { describeRedis, uniquePrefix, useRedis, type RedisServer } from '../support/redis.js';

@Controller()
class StreamController {
  @Get('events')
  @SseConnection({ name: 'events', group: (req: any) => req.query.group })
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

describeRedis('Redis transport: three instances in one process', () => {
  let redis: { url: string; server: RedisServer | undefined };
  let keyPrefix: string;
  let apps: TestApp[];
  let hubs: SseHub[];
  const clients: SseClient[] = [];

  const connect = async (instance: number, path: string) => {
    const client = await SseClient.open(`${apps[instance].url}${path}`);
    clients.push(client);
    return { client, ...(await client.opened()) };
  };

  beforeAll(async () => {
    redis = await useRedis();
    keyPrefix = uniquePrefix('cluster');
    apps = [];
    for (let i = 0; i < 3; i++) {
      apps.push(
        await startApp(express, {
          imports: [
            i === 2
              ? SseModule.forRootAsync({ useFactory: () => sseOptions(redis.url, keyPrefix) })
              : SseModule.forRoot(sseOptions(redis.url, keyPrefix)),
          ],
          controllers: [StreamController],
        }),
      );
    }
    hubs = apps.map((t) => t.app.get(SseHub));
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    for (const t of apps ?? []) await t.close();
    await redis?.server?.stop();
  });

  /** Waits until a cluster-wide query settles on the expected answer (presence updates are asynchronous). */
  const settle = async <T>(query: () => Promise<T>, expected: T): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = await query();
      if (JSON.stringify(value) === JSON.stringify(expected)) return value;
      await new Promise((r) => setTimeout(r, 25));
    }
    return query();
  };

  it('a send on any instance reaches every matching client on every instance exactly once', async () => {
    const peers = [await connect(0, '/events'), await connect(1, '/events'), await connect(2, '/events')];
    await settle(() => hubs[0].count({ name: 'events' }), 3);
    for (let from = 0; from < 3; from++) {
      const result = await hubs[from].send({ name: 'events' }, { data: `from ${from}` });
      expect(result.delivered).toBe(3);
    }
    await hubs[1].send({ name: 'events' }, { event: 'done', data: 'end' });
    for (const { client } of peers) {
      await client.next('done');
      expect(client.eventsOf('message').map((e) => e.data)).toEqual(['from 0', 'from 1', 'from 2']);
    }
  });

  it('addresses client ids, groups and several names across instances', async () => {
    const a = await connect(0, '/events?group=red');
    const b = await connect(1, '/events?group=blue');
    const c = await connect(2, '/events?group=red');
    const d = await connect(1, '/events');
    const alert = await connect(2, '/alerts?x=1');
    await settle(() => hubs[0].count(), 5);

    expect((await hubs[1].send({ name: 'events', clientId: [a.clientId, b.clientId, a.clientId] }, { data: 'ids' })).delivered).toBe(2);
    expect((await hubs[2].send({ name: 'events', group: 'red' }, { data: 'red' })).delivered).toBe(2);
    expect((await hubs[0].send({ name: 'events', group: ['red', 'blue'] }, { data: 'colours' })).delivered).toBe(3);
    expect((await hubs[0].send({ name: 'events', group: 'red', clientId: [a.clientId, b.clientId] }, { data: 'red ids' })).delivered).toBe(1);
    expect((await hubs[1].send({ name: ['events', 'alerts'], clientId: [d.clientId, alert.clientId] }, { data: 'names' })).delivered).toBe(2);
    // A name listed twice addresses its clients once, on every instance.
    expect((await hubs[2].send({ name: ['events', 'events'], group: 'blue' }, { data: 'listed twice' })).delivered).toBe(1);
    // alerts has broadcast level 'group': a whole-name send to it is refused on every instance.
    await expect(hubs[2].send({ name: ['events', 'alerts'] }, { event: 'done', data: '' })).rejects.toBeInstanceOf(SseBroadcastLevelError);
    for (const hub of hubs) expect(hub.testBroadcastLevel({ name: 'alerts' })).toBe(false);
    await hubs[0].send({ name: 'events' }, { event: 'done', data: '' });
    await hubs[0].send({ name: 'alerts', clientId: alert.clientId }, { event: 'done', data: '' });

    const received = async (peer: { client: SseClient }) => {
      await peer.client.next('done');
      return peer.client.eventsOf('message').map((e) => e.data);
    };
    expect(await received(a)).toEqual(['ids', 'red', 'colours', 'red ids']);
    expect(await received(b)).toEqual(['ids', 'colours', 'listed twice']);
    expect(await received(c)).toEqual(['red', 'colours']);
    expect(await received(d)).toEqual(['names']);
    expect(await received(alert)).toEqual(['names']);
  });

  it('answers names, groups, clientIds, hasName, exists and count for the whole cluster', async () => {
    const a = await connect(0, '/events?group=red');
    const b = await connect(1, '/events?group=blue');
    const c = await connect(2, '/alerts');
    await settle(() => hubs[2].count(), 3);
    for (const hub of hubs) {
      expect((await hub.names()).sort()).toEqual(['alerts', 'events']);
      expect((await hub.groups('events')).sort()).toEqual(['blue', 'red']);
      expect(await hub.groups('alerts')).toEqual([]);
      expect((await hub.clientIds({ name: 'events' })).sort()).toEqual([a.clientId, b.clientId].sort());
      expect(await hub.clientIds({ name: 'events', group: 'blue' })).toEqual([b.clientId]);
      expect(await hub.hasName('alerts')).toBe(true);
      expect(await hub.hasName('nobody')).toBe(false);
      expect(await hub.exists({ name: 'alerts', clientId: c.clientId })).toBe(true);
      expect(await hub.exists({ name: 'events', clientId: c.clientId })).toBe(false);
      expect(await hub.count({ name: ['events', 'alerts'] })).toBe(3);
      expect(await hub.count({ name: 'events', group: 'red' })).toBe(1);
    }
    c.client.close();
    // The name is gone everywhere once its last client left.
    expect(await settle(() => hubs[0].hasName('alerts'), false)).toBe(false);
    expect(await hubs[1].names()).toEqual(['events']);
  });

  it('close(target) closes across the cluster and resolves with the number closed', async () => {
    const peers = [await connect(0, '/events?group=g'), await connect(1, '/events?group=g'), await connect(2, '/events'), await connect(2, '/events?group=g')];
    await settle(() => hubs[0].count(), 4);
    expect(await hubs[1].close({ name: 'events', group: 'g' })).toBe(3);
    for (const peer of [peers[0], peers[1], peers[3]]) {
      await peer.client.end();
      expect(JSON.parse((await peer.client.next('sse.close')).data)).toEqual({ reason: 'server' });
    }
    expect(peers[2].client.ended).toBe(false);
    expect(await settle(() => hubs[0].count(), 1)).toBe(1);
    expect(await hubs[0].close({ name: 'nobody' })).toBe(0);
  });

  it('a client id is unique per name across the cluster: the later claim wins', async () => {
    const first = await connect(0, '/events?clientId=shared-id');
    await settle(() => hubs[2].exists({ name: 'events', clientId: 'shared-id' }), true);
    const second = await connect(1, '/events?clientId=shared-id');
    await first.client.end();
    expect(JSON.parse((await first.client.next('sse.close')).data)).toEqual({ reason: 'replaced' });
    expect(await settle(() => hubs[2].count({ name: 'events' }), 1)).toBe(1);
    expect(await hubs[0].send({ name: 'events', clientId: 'shared-id' }, { data: 'to the winner' })).toEqual({ delivered: 1 });
    expect((await second.client.next('message')).data).toBe('to the winner');
    expect(second.client.ended).toBe(false);
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

  it('a client reconnecting to a different instance with Last-Event-ID gets exactly what it missed', async () => {
    const first = await connect(0, '/events?group=red&clientId=roamer');
    await settle(() => hubs[2].exists({ name: 'events', clientId: 'roamer' }), true);
    await hubs[1].send({ name: 'events' }, { data: 'seen 1' });
    await hubs[2].send({ name: 'events', group: 'red' }, { data: 'seen 2' });
    const seen = await first.client.collect('message', 2);
    const lastEventId = seen[1].id!;
    first.client.close();
    await settle(() => hubs[2].exists({ name: 'events', clientId: 'roamer' }), false);

    // While it is away: sends from every instance, some for it, some not.
    await hubs[0].send({ name: 'events' }, { data: 'missed 1' });
    await hubs[1].send({ name: 'events', group: 'blue' }, { data: 'not for red' });
    await hubs[2].send({ name: 'events', clientId: 'roamer' }, { data: 'missed 2 (its id)' });
    await hubs[0].send({ name: 'events', clientId: 'someone-else' }, { data: 'not its id' });
    await hubs[1].send({ name: 'alerts', group: 'red' }, { data: 'other name' });
    await hubs[2].send({ name: 'events', group: ['red', 'blue'] }, [{ data: 'missed 3' }, { data: 'missed 4' }]);

    const back = await SseClient.open(`${apps[2].url}/events?group=red&clientId=roamer`, { headers: { 'last-event-id': lastEventId } });
    clients.push(back);
    await back.opened();
    await settle(() => hubs[0].exists({ name: 'events', clientId: 'roamer' }), true);
    await hubs[1].send({ name: 'events' }, { data: 'live' });
    await back.waitFor(() => back.eventsOf('message').length >= 5, 'replay then live');
    expect(back.eventsOf('message').map((e) => e.data)).toEqual(['missed 1', 'missed 2 (its id)', 'missed 3', 'missed 4', 'live']);
    expect(back.eventsOf('sse.gap')).toEqual([]);
    const ids = back.eventsOf('message').map((e) => e.id!);
    expect(idOrder(lastEventId, ids[0])).toBeLessThan(0);
  });

  it('an instance started later replays sends made before it started; an unknown id gets sse.gap', async () => {
    const first = await connect(0, '/events');
    await settle(() => hubs[1].count(), 1);
    await hubs[0].send({ name: 'events' }, { data: 'before' });
    const lastEventId = (await first.client.next('message')).id!;
    first.client.close();
    await hubs[1].send({ name: 'events' }, { data: 'while away' });

    const late = await startApp(express, { imports: [SseModule.forRoot(sseOptions(redis.url, keyPrefix))], controllers: [StreamController] });
    try {
      const back = await SseClient.open(`${late.url}/events`, { headers: { 'last-event-id': lastEventId } });
      clients.push(back);
      expect((await back.next('message')).data).toBe('while away');
      const lost = await SseClient.open(`${late.url}/events`, { headers: { 'last-event-id': '1-0' } });
      clients.push(lost);
      const gap = JSON.parse((await lost.next('sse.gap')).data);
      expect(gap.lastEventId).toBe('1-0');
      expect(typeof gap.oldestAvailableId).toBe('string');
    } finally {
      for (const client of clients.splice(0)) client.close();
      await late.close();
    }
  });

  it('ctx.send goes through the cluster history: replay elsewhere holds it only for its own client', async () => {
    const first = await SseClient.open(`${apps[0].url}/greet?clientId=g1`);
    clients.push(first);
    const welcome = await first.next('message');
    expect(welcome.data).toBe('welcome g1');
    first.close();
    await settle(() => hubs[1].exists({ name: 'greet', clientId: 'g1' }), false);
    const other = await SseClient.open(`${apps[2].url}/greet?clientId=g2`);
    clients.push(other);
    expect((await other.next('message')).data).toBe('welcome g2');
    await hubs[2].send({ name: 'greet' }, { data: 'news' });

    const back = await SseClient.open(`${apps[1].url}/greet?clientId=g1`, { headers: { 'last-event-id': welcome.id! } });
    clients.push(back);
    await back.waitFor(() => back.eventsOf('message').length >= 2, 'replay and welcome');
    expect(back.eventsOf('message').map((e) => e.data)).toEqual(['news', 'welcome g1']);
  });

  it('@SseContext() on an ordinary route reaches a connection open on another instance', async () => {
    const before = Date.now();
    const peer = await SseClient.open(`${apps[0].url}/events?group=red&clientId=far-away`, { headers: { 'last-event-id': 'an-old-id' } });
    clients.push(peer);
    await peer.opened();
    await settle(() => hubs[1].exists({ name: 'events', clientId: 'far-away' }), true);
    const headers = { 'x-sse-name': 'events', 'x-sse-client-id': 'far-away' };

    const said = await request(`${apps[1].url}/say`, { method: 'POST', headers });
    expect(said.status).toBe(201);
    expect(said.body.group).toBe('red');
    expect(said.body.lastEventId).toBe('an-old-id');
    expect(said.body.connectedAt).toBeGreaterThanOrEqual(before - 1000);
    // An unknown last id replays what the history holds first; the reply comes after it.
    await peer.waitFor(() => peer.dataOf().includes('said to far-away'), 'the reply');

    expect((await request(`${apps[2].url}/say`, { method: 'POST', headers: { ...headers, 'x-sse-group': 'blue' } })).status).toBe(404);
    expect((await request(`${apps[2].url}/say`, { method: 'POST', headers: { ...headers, 'x-sse-client-id': 'nobody' } })).status).toBe(404);
    expect((await request(`${apps[2].url}/say`, { method: 'POST', headers: { 'x-sse-client-id': 'far-away' } })).status).toBe(400);

    expect((await request(`${apps[2].url}/hang-up`, { method: 'POST', headers })).status).toBe(201);
    await peer.end();
    expect(JSON.parse((await peer.next('sse.close')).data)).toEqual({ reason: 'server' });
    await settle(() => hubs[1].exists({ name: 'events', clientId: 'far-away' }), false);
    expect((await request(`${apps[1].url}/say`, { method: 'POST', headers })).status).toBe(404);
  });

  it('a process without an HTTP server sends into the cluster', async () => {
    @Module({ imports: [SseModule.forRoot({ transport: new RedisTransport({ url: redis.url, keyPrefix }) })] })
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
