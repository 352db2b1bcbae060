import { platforms, request } from '../support/app.js';
import { buildFixtures, ClusterProcess } from '../support/cluster-process.js';
import { describeRedis, uniquePrefix, useRedisServer } from '../support/redis.js';
import { SseClientPool, type SseClient } from '../support/sse-client.js';
import { settle } from '../support/wait.js';

/**
 * The cluster as it runs in production: three app instances and one
 * publisher-only worker, each its own OS process, sharing one Redis.
 */
describeRedis('Redis transport: three app processes and a publisher-only process', () => {
  const PRESENCE_TTL = 1500;
  beforeAll(() => buildFixtures(), 120_000);
  const redis = useRedisServer();

  describe.each(platforms)('$name', (platform) => {
    let apps: ClusterProcess[] = [];
    let publisher: ClusterProcess;
    // The second test counts what the first one left open: clients close after the last test.
    const clients = new SseClientPool();

    beforeAll(async () => {
      const env = { REDIS_URL: redis.url, KEY_PREFIX: uniquePrefix(`processes-${platform.name}`), PRESENCE_TTL: String(PRESENCE_TTL) };
      apps = await Promise.all([0, 1, 2].map(() => ClusterProcess.start('app', env, platform)));
      publisher = await ClusterProcess.start('publisher', env);
    }, 120_000);

    afterAll(async () => {
      await clients.closeAll();
      await Promise.all([...apps, publisher].filter(Boolean).map((instance) => instance.kill('SIGTERM')));
    });

    const open = (instance: number, path: string) => clients.connect(`${apps[instance].url}${path}`);

    const messages = async (peer: { client: SseClient }) => {
      await peer.client.next('done');
      return peer.client.eventsOf('message').map((e) => e.data);
    };

    it('every addressing mode reaches exactly the matching clients on every process, once', async () => {
      // Signed ids issued by the publisher are accepted by every app: same signing everywhere.
      const alice = await publisher.call<string>('newClientId', 'alice');
      const bob = await publisher.call<string>('newClientId', 'bob');
      expect(alice).toMatch(/^s:alice\./);

      const a = await open(0, `/events?group=red&clientId=${encodeURIComponent(alice)}`);
      const b = await open(1, `/events?group=blue&clientId=${encodeURIComponent(bob)}`);
      const c = await open(2, '/events?group=red');
      const d = await open(2, '/events');
      const e = await open(1, '/alerts?group=ops');
      expect(a.clientId).toBe(alice);
      // The processes run the platform of this describe (Express announces itself, Fastify does not).
      expect(a.client.headers['x-powered-by']).toBe(platform.name === 'express' ? 'Express' : undefined);
      expect(b.clientId).toBe(bob);
      expect(await settle(() => publisher.call('count'), 5)).toBe(5);

      const sent: Array<[ClusterProcess, object, object, number]> = [
        [publisher, { name: 'events' }, { data: 'all events' }, 4],
        [apps[0], { name: 'events', clientId: [alice, bob] }, { data: 'alice+bob' }, 2],
        [apps[1], { name: 'events', group: 'red' }, { data: 'red' }, 2],
        [publisher, { name: 'events', group: ['red', 'blue'] }, { data: 'red+blue' }, 3],
        [apps[2], { name: 'events', group: 'red', clientId: [alice, bob] }, { data: 'red alice' }, 1],
        [publisher, { name: ['events', 'alerts'], clientId: [d.clientId, e.clientId] }, { data: 'two names' }, 2],
        [apps[0], { name: 'alerts', group: 'ops' }, { data: 'ops' }, 1],
        [publisher, { name: 'events', clientId: 'nobody' }, { data: 'nobody' }, 0],
      ];
      for (const [from, target, event, delivered] of sent) {
        expect(await from.call('send', target, event)).toEqual({ delivered });
      }
      // The broadcast level of 'alerts' holds on every process.
      for (const instance of [publisher, ...apps]) {
        await expect(instance.call('send', { name: 'alerts' }, { data: 'refused' })).rejects.toMatchObject({ remoteName: 'SseBroadcastLevelError' });
      }
      await publisher.call('send', { name: 'events' }, { event: 'done', data: '' });
      await publisher.call('send', { name: 'alerts', group: 'ops' }, { event: 'done', data: '' });

      expect(await messages(a)).toEqual(['all events', 'alice+bob', 'red', 'red+blue', 'red alice']);
      expect(await messages(b)).toEqual(['all events', 'alice+bob', 'red+blue']);
      expect(await messages(c)).toEqual(['all events', 'red', 'red+blue']);
      expect(await messages(d)).toEqual(['all events', 'two names']);
      expect(await messages(e)).toEqual(['two names', 'ops']);
      // One order of ids, the same on every process.
      const ids = (peer: { client: SseClient }) => peer.client.events.filter((x) => x.id).map((x) => x.id);
      expect(ids(a).filter((id) => ids(c).includes(id))).toEqual(ids(c).filter((id) => ids(a).includes(id)));

      // A forged signed id is refused by every app.
      for (const app of apps) {
        const forged = await request(`${app.url}/events?clientId=${encodeURIComponent('s:alice.forged')}`);
        expect(forged.status).toBe(400);
      }

      // Queries answer for the whole cluster, the same on every process.
      for (const instance of [publisher, ...apps]) {
        expect(((await instance.call('names')) as string[]).sort()).toEqual(['alerts', 'events']);
        expect(((await instance.call('groups', 'events')) as string[]).sort()).toEqual(['blue', 'red']);
        expect(((await instance.call('clientIds', { name: 'events', group: 'red' })) as string[]).sort()).toEqual([alice, c.clientId].sort());
        expect(await instance.call('hasName', 'alerts')).toBe(true);
        expect(await instance.call('exists', { name: 'events', clientId: bob })).toBe(true);
        expect(await instance.call('count', { name: ['events', 'alerts'] })).toBe(5);
      }

      // A later claim of alice's id on another process replaces the first connection.
      const again = await open(2, `/events?group=red&clientId=${encodeURIComponent(alice)}`);
      await a.client.end();
      expect(JSON.parse((await a.client.next('sse.close')).data)).toEqual({ reason: 'replaced' });
      expect(again.client.ended).toBe(false);
      expect(await settle(() => publisher.call('count', { name: 'events', clientId: alice }), 1)).toBe(1);

      // close() from the publisher closes on every process and counts them all.
      expect(await publisher.call('close', { name: 'events', group: 'red' })).toBe(2);
      await again.client.end();
      await c.client.end();
      expect(b.client.ended).toBe(false);
      expect(await settle(() => publisher.call('count'), 3)).toBe(3);
    });

    it("a crashed process's connections vanish from every answer within the presence TTL", async () => {
      const survivor = await open(0, '/events');
      const doomed = [await open(1, '/events?group=doomed'), await open(1, '/alerts?group=doomed')];
      expect(await settle(() => publisher.call('count', { name: 'events', group: 'doomed' }), 1)).toBe(1);
      // Left on process 1 from the first test: bob (events) and the ops client (alerts).
      const onOthers = (await publisher.call<number>('count')) - 4;
      const eventsOnOthers = (await publisher.call<number>('count', { name: 'events' })) - 2;
      await apps[1].kill('SIGKILL');
      // The sockets of the dead process are gone, and so, after the TTL, is its presence
      // (waited for a few TTLs at most; how long it took is not asserted).
      for (const peer of doomed) await peer.client.end();
      const withinTtls = PRESENCE_TTL * 5;
      expect(await settle(() => publisher.call('groups', 'events'), [], withinTtls)).toEqual([]);
      expect(await publisher.call('clientIds', { name: 'events', group: 'doomed' })).toEqual([]);
      expect(await settle(() => publisher.call('count'), onOthers, withinTtls)).toBe(onOthers);
      // names() reads the instances' summaries, which expire on their own clock: waited for too.
      expect(await settle(() => publisher.call('hasName', 'alerts'), false, withinTtls)).toBe(false);
      expect(await apps[2].call('exists', { name: 'events', clientId: survivor.clientId })).toBe(true);
      expect(await apps[0].call('send', { name: 'events' }, { data: 'still here' })).toEqual({ delivered: eventsOnOthers });
      expect((await survivor.client.next('message')).data).toBe('still here');
    });
  });
});
