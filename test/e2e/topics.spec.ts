import { Body, Controller, Get, Injectable, Post, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import fc from 'fast-check';
import { SseConnection, SseContext, SseHub, SseModule, type SseModuleOptions, type SseRequest } from '../../lib/index.js';
import { SseEventIds } from '../../lib/delivery/sse-event-ids.js';
import { platforms, request, startApp, type Platform, type TestApp } from '../support/app.js';
import { SseClient, SseClientPool } from '../support/sse-client.js';
import { describeRedis } from '../support/redis.js';
import { transports, type ClusterOptions } from '../support/transports.js';
import { modelReplay, type ModelSend } from '../support/topic-model.js';

/** The app's own record of who is in which room: the `group` callback reads it at every (re)connect. */
const rooms = new Map<string, string[]>();

/** Sets `req.user` from `X-User`, as an authentication guard would. */
@Injectable()
class UserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<SseRequest & { user?: { id: string } }>();
    const id = req.headers['x-user'];
    if (typeof id !== 'string') return false;
    req.user = { id };
    return true;
  }
}

type AuthedRequest = SseRequest & { user: { id: string } };
const query = (req: SseRequest, key: string) => (typeof req.query[key] === 'string' ? (req.query[key] as string) : undefined);

@Controller()
class ChatController {
  @Get('chat')
  @UseGuards(UserGuard)
  @SseConnection<AuthedRequest>({
    name: 'chat',
    user: (req) => req.user.id,
    // An async lookup, as a database would be.
    group: async (req) => rooms.get(req.user.id) ?? [],
  })
  chat() {}

  @Post('rooms/join')
  async join(@SseContext() ctx: SseContext, @Body() body: { room: string }) {
    await ctx.join(body.room);
    return { groups: ctx.groups };
  }

  /** For the replay property: identity from the query. */
  @Get('topics')
  @SseConnection<SseRequest>({
    name: 'topics',
    user: (req) => query(req, 'user'),
    group: (req) => query(req, 'groups')?.split(',').filter(Boolean) ?? [],
  })
  topics() {}
}

interface Cluster {
  apps: TestApp[];
  hubs: SseHub[];
  /** The instance that sends and joins: the other one, when there are two. */
  other: SseHub;
  close(): Promise<void>;
}

/** Starts one cluster of the transport's instances (each with `options` and the transport's own). */
async function startCluster(platform: Platform, instances: number, transportOptions: ClusterOptions, options: SseModuleOptions): Promise<Cluster> {
  const apps: TestApp[] = [];
  for (let i = 0; i < instances; i++) {
    const sse = { ...options, ...transportOptions(i) };
    apps.push(await startApp(platform, { imports: [SseModule.forRoot(sse)], controllers: [ChatController], providers: [UserGuard] }));
  }
  const hubs = apps.map((t) => t.app.get(SseHub));
  return { apps, hubs, other: hubs[hubs.length - 1], close: async () => void (await Promise.all(apps.map((t) => t.close()))) };
}

/** Polls a cluster-wide query until it answers `expected` (a new connection's presence is announced asynchronously). */
async function settle<T>(query: () => Promise<T>, expected: T): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last: T = await query();
  while (JSON.stringify(last) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    last = await query();
  }
  expect(last).toEqual(expected);
}

const label = (client: SseClient, type: string) => client.eventsOf(type).map((event) => event.data);

// The transports of the conformance suite: memory (one instance), Redis and a Redis Cluster (two instances each).
for (const transport of transports) {
  const describeTransport = transport.needsRedis ? describeRedis : describe;
  describeTransport(`topics over ${transport.name}`, () => {
    const newCluster = transport.use();

    describe.each(platforms)('($name)', (platform) => {
      let cluster: Cluster;
      const pool = new SseClientPool();
      const tab = (instance: number, user: string, headers: Record<string, string> = {}) =>
        pool.open(`${cluster.apps[instance].url}/chat`, { headers: { 'x-user': user, ...headers } });

      beforeAll(async () => {
        cluster = await startCluster(platform, transport.instances, newCluster(), { maxConnectionsPerUser: 2, history: { size: 100 } });
      });
      afterEach(async () => {
        await pool.closeAll();
        rooms.clear();
        await settle(() => cluster.other.count(), 0);
      });
      afterAll(async () => {
        await cluster?.close();
      });

      it('keeps two tabs of one user open, reaches both by user, and refuses a third with 429', async () => {
        const [one, two] = [await tab(0, '42'), await tab(0, '42')];
        const [openOne, openTwo] = [await one.opened(), await two.opened()];
        expect(openOne).toMatchObject({ user: '42', groups: [] });
        expect(openOne.clientId).not.toBe(openTwo.clientId);
        await settle(() => cluster.other.count({ name: 'chat', user: '42' }), 2);
        expect(await cluster.other.exists({ name: 'chat', user: '42' })).toBe(true);
        expect((await cluster.other.clientIds({ name: 'chat', user: '42' })).sort()).toEqual([openOne.clientId, openTwo.clientId].sort());

        const third = await tab(0, '42');
        expect(third.status).toBe(429);
        expect(third.body).toContain('maxConnectionsPerUser');
        // Another user is not counted against user 42.
        const stranger = await tab(0, '7');
        expect(stranger.status).toBe(200);

        expect(await cluster.other.send({ name: 'chat', user: '42' }, { event: 'dm', data: 'hi 42' })).toEqual({ delivered: 2 });
        await Promise.all([one.next('dm'), two.next('dm')]);
        // Neither tab replaced the other; the stranger got nothing.
        for (const client of [one, two]) expect(client.eventsOf('sse.close')).toEqual([]);
        await cluster.other.send({ name: 'chat', user: '7' }, { event: 'dm', data: 'hi 7' });
        expect(label(await stranger.collect('dm', 1).then(() => stranger), 'dm')).toEqual(['hi 7']);
        expect(await cluster.other.close({ name: 'chat', user: '42' })).toBe(2);
      });

      it('joins 20 groups at runtime from anywhere, leaves 5, and reaches the connection exactly while it is a member', async () => {
        rooms.set('7', ['lobby']);
        const client = await tab(0, '7');
        const { clientId, groups } = await client.opened();
        expect(groups).toEqual(['lobby']);
        expect(client.headers['x-sse-group']).toBe('lobby');
        await settle(() => cluster.other.count({ name: 'chat', user: '7' }), 1);
        const all = Array.from({ length: 20 }, (_, i) => `g${i}`);

        expect((await cluster.other.send({ name: 'chat', group: 'g0' }, { event: 'room', data: 'before' })).delivered).toBe(0);
        expect(await cluster.other.join({ name: 'chat', user: '7' }, all)).toBe(1);
        // Joining groups it is in changes nothing.
        expect(await cluster.other.join({ name: 'chat', clientId }, ['g0', 'lobby'])).toBe(0);
        for (const hub of cluster.hubs) expect((await hub.groups('chat')).sort()).toEqual(['lobby', ...all].sort());
        expect(await cluster.other.leave({ name: 'chat', user: '7' }, all.slice(15))).toBe(1);
        for (const hub of cluster.hubs) {
          expect((await hub.groups('chat')).sort()).toEqual(['lobby', ...all.slice(0, 15)].sort());
          expect(await hub.count({ name: 'chat', group: 'g3' })).toBe(1);
          expect(await hub.count({ name: 'chat', group: 'g17' })).toBe(0);
          expect(await hub.count({ name: 'chat', group: ['g3', 'g4', 'lobby'] })).toBe(1);
        }
        for (const group of all) {
          const { delivered } = await cluster.other.send({ name: 'chat', group }, { event: 'room', data: group });
          expect(delivered).toBe(all.indexOf(group) < 15 ? 1 : 0);
        }
        await cluster.other.send({ name: 'chat', clientId }, { event: 'end', data: '' });
        await client.next('end');
        expect(label(client, 'room')).toEqual(all.slice(0, 15));

        // @SseContext() on an ordinary route, served by the other instance: ctx.join reaches it there.
        const headers = { 'x-sse-name': 'chat', 'x-sse-client-id': clientId, 'content-type': 'application/json' };
        const joined = await request(`${cluster.apps[cluster.apps.length - 1].url}/rooms/join`, { method: 'POST', headers, body: { room: 'ctx-room' } });
        expect(joined.status).toBe(201);
        expect((await cluster.other.send({ name: 'chat', group: 'ctx-room' }, { event: 'room', data: 'via ctx' })).delivered).toBe(1);
        await client.waitFor(() => label(client, 'room').includes('via ctx'), 'the ctx-room event');

        // After a reconnect its groups are the callback's again.
        client.close();
        await client.end();
        await settle(() => cluster.other.count({ name: 'chat', user: '7' }), 0);
        const again = await tab(0, '7');
        expect((await again.opened()).groups).toEqual(['lobby']);
        await settle(() => cluster.other.count({ name: 'chat', user: '7' }), 1);
        expect((await cluster.other.send({ name: 'chat', group: 'g0' }, { event: 'room', data: 'after' })).delivered).toBe(0);
        for (const hub of cluster.hubs) expect(await hub.groups('chat')).toEqual(['lobby']);
      });

      it('a join can replay the last events of the group, without ids, so Last-Event-ID never moves back', async () => {
        const client = await tab(0, '9');
        const { clientId } = await client.opened();
        await settle(() => cluster.other.count({ name: 'chat', user: '9' }), 1);
        await cluster.other.send({ name: 'chat', clientId }, { event: 'mine', data: 'own' });
        const ownId = (await client.next('mine')).id;
        for (let i = 1; i <= 3; i++) await cluster.other.send({ name: 'chat', group: 'news' }, { event: 'news', data: `n${i}` });
        expect(await cluster.other.join({ name: 'chat', clientId }, 'news', { replay: 2 })).toBe(1);
        await cluster.other.send({ name: 'chat', group: 'news' }, { event: 'news', data: 'n4' });
        await client.collect('news', 3);
        expect(client.eventsOf('news').map((event) => [event.data, event.id])).toEqual([
          ['n2', undefined],
          ['n3', undefined],
          ['n4', expect.any(String)],
        ]);
        expect(client.lastEventId).not.toBe(ownId);
      });

      it('resumes a user\'s tab with all its private events and what its groups\' windows still hold, in send order, once', async () => {
        rooms.set('u', ['busy1']);
        const stays = await tab(0, 'u');
        await stays.opened();
        const away = await tab(0, 'u');
        await away.opened();
        await settle(() => cluster.other.count({ name: 'chat', user: 'u' }), 2);
        await cluster.other.send({ name: 'chat', user: 'u' }, { event: 'private', data: 'start' });
        const position = (await away.next('private')).id!;
        await stays.next('private');
        away.close();
        await away.end();
        await settle(() => cluster.other.count({ name: 'chat', user: 'u' }), 1);

        const privateAt = new Set([417, 2500, 4999]);
        for (let i = 0; i < 5000; i++) {
          const group = `busy${(i % 3) + 1}`;
          await cluster.other.send({ name: 'chat', group }, { event: 'room', data: `${group}:${i}` });
          if (privateAt.has(i)) await cluster.other.send({ name: 'chat', user: 'u' }, { event: 'private', data: `p${i}` });
        }
        await cluster.other.send({ name: 'chat', user: 'u' }, { event: 'end', data: '' });
        await stays.next('end');
        // What the tab that stayed saw after `position` is what the other would have seen live;
        // of it, a returning tab still finds its private events and the last 100 of busy1.
        const live = stays.events.filter((event) => event.event === 'room' || event.event === 'private').slice(1);
        const busy1 = live.filter((event) => event.data.startsWith('busy1:'));
        const expected = live.filter((event) => event.event === 'private' || busy1.indexOf(event) >= busy1.length - 100);

        const back = await tab(0, 'u', { 'last-event-id': position });
        await back.next('end');
        const replayed = back.events.filter((event) => event.event === 'room' || event.event === 'private');
        expect(replayed.map((event) => [event.id, event.data])).toEqual(expected.map((event) => [event.id, event.data]));
        expect(replayed.filter((event) => event.event === 'private').map((event) => event.data)).toEqual(['p417', 'p2500', 'p4999']);
        // The gap names the topic that lost what it needed (busy1), and nothing else.
        expect(back.eventsOf('sse.gap').map((event) => JSON.parse(event.data).topics)).toEqual([[{ group: 'busy1' }]]);
        expect(back.events.map((event) => event.event).slice(0, 2)).toEqual(['sse.open', 'sse.gap']);
      });

      it('replays what the model keeps, for random sends and readers (property)', async () => {
        const ids = new SseEventIds();
        const sends: ModelSend[] = [];
        const someOf = <T>(values: T[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: values.length });
        const target = fc.record(
          { groups: someOf(['g1', 'g2', 'g3']), clientIds: someOf(['c1', 'c2']), users: someOf(['u1', 'u2']) },
          { requiredKeys: [] },
        );
        const send = async (t: Omit<ModelSend['target'], 'names'>) => {
          const id = ids.next();
          sends.push({ id, target: { names: ['topics'], ...t } });
          await cluster.other.send({ name: 'topics', group: t.groups, clientId: t.clientIds, user: t.users }, { id, event: 'e', data: id });
        };
        await fc.assert(
          fc.asyncProperty(
            fc.array(target, { minLength: 1, maxLength: 25 }),
            fc.record({ groups: fc.uniqueArray(fc.constantFrom('g1', 'g2', 'g3'), { maxLength: 3 }), clientId: fc.constantFrom('c1', 'c2'), user: fc.constantFrom('u1', 'u2') }),
            fc.nat(),
            async (targets, reader, at) => {
              const from = sends.length;
              for (const t of targets) await send(t);
              const position = from + (at % targets.length);
              const url = `${cluster.apps[0].url}/topics?clientId=${reader.clientId}&user=${reader.user}&groups=${reader.groups.join(',')}`;
              const expected = modelReplay(sends, 100, { name: 'topics', ...reader }, position);
              const client = await SseClient.open(url, { headers: { 'last-event-id': sends[position].id } });
              try {
                await client.opened();
                // A last send to this reader marks the end of its replay (it is history too).
                await send({ clientIds: [reader.clientId] });
                await client.waitFor(() => client.events.some((event) => event.data === sends.at(-1)!.id), 'the end marker');
                const replayed = client.eventsOf('e').map((event) => event.data).slice(0, -1);
                expect(replayed).toEqual(expected.ids);
                expect(client.eventsOf('sse.gap').map((event) => JSON.parse(event.data).topics)).toEqual(
                  expected.lostTopics.length > 0 ? [expected.lostTopics] : [],
                );
              } finally {
                client.close();
                await client.end();
                await settle(() => cluster.other.count({ name: 'topics' }), 0);
              }
            },
          ),
          { numRuns: 12 },
        );
      });
    });
  });
}
