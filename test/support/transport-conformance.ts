import { SseModule, type SseHub, type SseTarget } from '../../lib/index.js';
import { useCluster, type Platform, type TestApp } from './app.js';
import type { SseClient } from './sse-client.js';
import { EventsAndNewsController } from './streams.controller.js';
import type { ClusterOptions, TransportSetup } from './transports.js';
import { settle } from './wait.js';

/** Who is connected in the addressing and close cases: name, client id, group; spread over the instances in turn. */
const ROSTER = [
  { path: 'events', id: 'a', group: 'red' },
  { path: 'events', id: 'b', group: 'red' },
  { path: 'events', id: 'c', group: 'blue' },
  { path: 'events', id: 'd', group: undefined },
  { path: 'news', id: 'n1', group: 'red' },
  { path: 'news', id: 'n2', group: undefined },
] as const;

const pathOf = (path: string, id: string, group?: string) =>
  `/${path}?clientId=${id}${group === undefined ? '' : `&group=${group}`}`;

/**
 * The cases every transport must pass, through the public API only (`SseHub`
 * and real SSE clients over loopback): a cluster of `transport.instances` apps
 * on `platform`, clients and calls spread over them. With one instance
 * (memory) "another instance" is the same one.
 */
export function testTransport(transport: TransportSetup, platform: Platform, newCluster: () => ClusterOptions): void {
  let cluster: ClusterOptions | undefined;
  const optionsOf = (instance: number) => (cluster ??= newCluster())(instance);
  const apps: TestApp[] = useCluster(platform, transport.instances, (instance) => ({
    imports: [SseModule.forRoot(optionsOf(instance))],
    controllers: [EventsAndNewsController],
  }));
  const n = apps.length;
  /** The instance after `i`, round the cluster. */
  const app = (i: number) => apps[i % n];
  const hub = (i: number): SseHub => app(i).hub;
  const last = n - 1;

  /** Waits until every instance counts `expected` connections (presence may be announced asynchronously). */
  async function everywhereCount(expected: number): Promise<void> {
    for (const t of apps) expect(await settle(() => t.hub.count(), expected)).toBe(expected);
  }

  describe('addressing', () => {
    let clients: Record<string, SseClient>;
    let seq = 0;

    beforeEach(async () => {
      clients = {};
      for (const [i, { path, id, group }] of ROSTER.entries()) {
        clients[id] = (await app(i).connect(pathOf(path, id, group))).client;
      }
      await everywhereCount(ROSTER.length);
    });

    /**
     * Runs a send (from instance `from`) with a unique payload, then a marker to
     * everybody from another instance; once every open client (`among`) has
     * the marker, the ones that got the payload before it are the receivers.
     */
    async function receiversOf(from: number, target: SseTarget, expected: number, among = Object.keys(clients)): Promise<string[]> {
      const tag = `payload-${++seq}`;
      expect(await hub(from).send(target, { data: tag })).toEqual({ delivered: expected });
      await hub(from + 1).send({ name: ['events', 'news'] }, { event: 'marker', data: tag });
      const received: string[] = [];
      for (const id of among) {
        const client = clients[id];
        await client.waitFor(() => client.eventsOf('marker').some((e) => e.data === tag), `marker on ${id}`);
        const copies = client.dataOf('message').filter((data) => data === tag).length;
        if (copies > 0) received.push(copies === 1 ? id : `${id} ×${copies}`);
      }
      return received.sort();
    }

    it('sends to one client id', async () => {
      expect(await receiversOf(0, { name: 'events', clientId: 'b' }, 1)).toEqual(['b']);
    });

    it('sends to several client ids, each once even when listed twice', async () => {
      expect(await receiversOf(1, { name: 'events', clientId: ['a', 'd', 'a'] }, 2)).toEqual(['a', 'd']);
    });

    it('sends to a group, leaving other groups and ungrouped clients out', async () => {
      expect(await receiversOf(0, { name: 'events', group: 'red' }, 2)).toEqual(['a', 'b']);
    });

    it('sends to several groups', async () => {
      expect(await receiversOf(1, { name: 'events', group: ['red', 'blue'] }, 3)).toEqual(['a', 'b', 'c']);
    });

    it('sends to a whole name, and only that name', async () => {
      expect(await receiversOf(0, { name: 'events' }, 4)).toEqual(['a', 'b', 'c', 'd']);
      expect(await receiversOf(1, { name: 'news' }, 2)).toEqual(['n1', 'n2']);
    });

    it('sends to several names; a name listed twice is addressed once', async () => {
      expect(await receiversOf(0, { name: ['events', 'news'] }, 6)).toEqual(['a', 'b', 'c', 'd', 'n1', 'n2']);
      expect(await receiversOf(1, { name: ['news', 'news'] }, 2)).toEqual(['n1', 'n2']);
    });

    it('a group and client ids together address their intersection, name by name', async () => {
      // a and n1 are red; c is blue and n2 ungrouped, so the group drops them; x is nobody.
      const target: SseTarget = { name: ['events', 'news'], clientId: ['a', 'c', 'n1', 'n2', 'x'], group: 'red' };
      expect(await receiversOf(0, target, 2)).toEqual(['a', 'n1']);
      expect(await receiversOf(1, { name: 'events', clientId: 'c', group: ['red', 'blue'] }, 1)).toEqual(['c']);
    });

    it('a client id is looked up per name: the same id under another name is another client', async () => {
      expect(await receiversOf(0, { name: 'news', clientId: 'a' }, 0)).toEqual([]);
    });

    it('a send to nobody resolves with delivered 0 and reaches nobody', async () => {
      expect(await receiversOf(0, { name: 'nobody-here' }, 0)).toEqual([]);
      expect(await receiversOf(1, { name: 'events', clientId: 'zz' }, 0)).toEqual([]);
      expect(await receiversOf(0, { name: 'events', group: 'green' }, 0)).toEqual([]);
      expect(await receiversOf(1, { name: 'events', group: [] }, 0)).toEqual([]);
      expect(await receiversOf(0, { name: 'events', clientId: [] }, 0)).toEqual([]);
    });

    /** Closes from instance `from`; checks the count, who got sse.close {"reason":"server"} and ended, and that the rest still receive. */
    async function expectClosed(from: number, target: SseTarget, closedIds: string[]): Promise<void> {
      expect(await hub(from).close(target)).toBe(closedIds.length);
      for (const id of closedIds) {
        await clients[id].end();
        expect({ id, closes: clients[id].eventsOf('sse.close').map((e) => JSON.parse(e.data)) }).toEqual({
          id,
          closes: [{ reason: 'server' }],
        });
      }
      const open = Object.keys(clients).filter((id) => !closedIds.includes(id));
      expect(await receiversOf(from + 1, { name: ['events', 'news'] }, open.length, open)).toEqual(open.sort());
      for (const id of open) expect({ id, ended: clients[id].ended }).toEqual({ id, ended: false });
    }

    it('close(client id) closes on every instance and resolves with the number closed', () =>
      expectClosed(0, { name: 'events', clientId: 'c' }, ['c']));
    it('close(several client ids)', () => expectClosed(1, { name: 'events', clientId: ['a', 'd'] }, ['a', 'd']));
    it('close(group)', () => expectClosed(0, { name: 'events', group: 'red' }, ['a', 'b']));
    it('close(several groups)', () => expectClosed(1, { name: 'events', group: ['red', 'blue'] }, ['a', 'b', 'c']));
    it('close(name)', () => expectClosed(0, { name: 'news' }, ['n1', 'n2']));
    it('close(several names)', () => expectClosed(1, { name: ['events', 'news'] }, ['a', 'b', 'c', 'd', 'n1', 'n2']));
    it('close(name + client ids + group) closes the intersection', () =>
      expectClosed(0, { name: ['events', 'news'], clientId: ['b', 'c', 'n1'], group: 'red' }, ['b', 'n1']));
    it('close(nobody) resolves 0', () => expectClosed(1, { name: 'events', clientId: 'nobody' }, []));

    it('a closed client is no longer addressed or counted, on any instance', async () => {
      expect(await hub(0).close({ name: 'events', clientId: 'a' })).toBe(1);
      await everywhereCount(ROSTER.length - 1);
      for (let i = 0; i < n; i++) {
        expect(await hub(i).send({ name: 'events', clientId: 'a' }, { data: 'late' })).toEqual({ delivered: 0 });
        expect(await hub(i).close({ name: 'events', clientId: 'a' })).toBe(0);
        expect(await hub(i).exists({ name: 'events', clientId: 'a' })).toBe(false);
      }
    });
  });

  describe('queries', () => {
    it('answer nothing when nothing is open', async () => {
      for (let i = 0; i < n; i++) {
        expect(await hub(i).names()).toEqual([]);
        expect(await hub(i).groups('events')).toEqual([]);
        expect(await hub(i).clientIds({ name: 'events' })).toEqual([]);
        expect(await hub(i).hasName('events')).toBe(false);
        expect(await hub(i).exists({ name: 'events', clientId: 'a' })).toBe(false);
        expect(await hub(i).count()).toBe(0);
        expect(await hub(i).count({ name: 'events' })).toBe(0);
      }
    });

    it('names, groups, clientIds, hasName, exists and count see the connections of every instance', async () => {
      await app(0).connect('/events?clientId=a&group=red');
      await app(1).connect('/events?clientId=b&group=blue');
      await app(0).connect('/events?clientId=c');
      await app(1).connect('/news?clientId=n&group=red');
      await everywhereCount(4);

      for (let i = 0; i < n; i++) {
        const h = hub(i);
        expect((await h.names()).sort()).toEqual(['events', 'news']);
        // An ungrouped connection adds no null or '' group.
        expect((await h.groups('events')).sort()).toEqual(['blue', 'red']);
        expect(await h.groups('news')).toEqual(['red']);
        expect(await h.groups('nothing')).toEqual([]);

        expect((await h.clientIds({ name: 'events' })).sort()).toEqual(['a', 'b', 'c']);
        expect((await h.clientIds({ name: ['events', 'news'], group: 'red' })).sort()).toEqual(['a', 'n']);
        expect(await h.clientIds({ name: 'events', clientId: ['c', 'x'] })).toEqual(['c']);

        expect(await h.hasName('events')).toBe(true);
        expect(await h.hasName('Events')).toBe(false);
        expect(await h.exists({ name: 'events', clientId: 'a' })).toBe(true);
        expect(await h.exists({ name: 'news', clientId: 'a' })).toBe(false);
        expect(await h.exists({ name: 'events', clientId: 'a', group: 'blue' })).toBe(false);
        expect(await h.exists({ name: 'events', clientId: 'b', group: 'blue' })).toBe(true);

        expect(await h.count({ name: 'events' })).toBe(3);
        expect(await h.count({ name: ['events', 'news'], group: 'red' })).toBe(2);
        expect(await h.count({ name: 'events', clientId: ['a', 'c'] })).toBe(2);
        expect(await h.count({ name: ['news', 'news'] })).toBe(1);
      }
    });

    it('a name is gone from every instance once its last client has left', async () => {
      const a = await app(0).connect('/news?clientId=a&group=red');
      await app(1).connect('/news?clientId=b');
      await everywhereCount(2);
      a.client.close();
      for (let i = 0; i < n; i++) {
        expect(await settle(() => hub(i).clientIds({ name: 'news' }), ['b'])).toEqual(['b']);
        expect(await hub(i).groups('news')).toEqual([]);
        expect(await hub(i).hasName('news')).toBe(true);
      }
      expect(await hub(0).close({ name: 'news', clientId: 'b' })).toBe(1);
      for (let i = 0; i < n; i++) {
        expect(await settle(() => hub(i).hasName('news'), false)).toBe(false);
        expect(await hub(i).names()).toEqual([]);
      }
    });
  });

  describe('replay', () => {
    it('a client back on another instance with Last-Event-ID gets exactly what was sent to it meanwhile, in order, once', async () => {
      const first = await app(0).connect('/events?group=red&clientId=roamer');
      await everywhereCount(1);
      await hub(1).send({ name: 'events' }, { data: 'seen 1' });
      await hub(0).send({ name: 'events', group: 'red' }, { data: 'seen 2' });
      const seen = await first.client.collect('message', 2);
      const lastEventId = seen[1].id!;
      first.client.close();
      await everywhereCount(0);

      // While it is away: sends from every instance, some for it, some not.
      await hub(0).send({ name: 'events' }, { data: 'missed 1' });
      await hub(1).send({ name: 'events', group: 'blue' }, { data: 'not for red' });
      await hub(0).send({ name: 'events', clientId: 'roamer' }, { data: 'missed 2 (its id)' });
      await hub(1).send({ name: 'events', clientId: 'someone-else' }, { data: 'not its id' });
      await hub(0).send({ name: 'news', group: 'red' }, { data: 'other name' });
      await hub(1).send({ name: 'events', group: ['red', 'blue'] }, [{ data: 'missed 3' }, { data: 'missed 4' }]);

      const back = await app(last).connect('/events?group=red&clientId=roamer', { headers: { 'last-event-id': lastEventId } });
      await everywhereCount(1);
      await hub(0).send({ name: 'events' }, { data: 'live' });
      await back.client.waitFor(() => back.client.dataOf('message').includes('live'), 'the live event');
      expect(back.client.events.map((e) => e.event ?? e.data)).toEqual([
        'sse.open',
        'missed 1',
        'missed 2 (its id)',
        'missed 3',
        'missed 4',
        'live',
      ]);
      const ids = back.client.eventsOf('message').map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).not.toContain(lastEventId);
    });

    it('an unknown Last-Event-ID gets sse.gap, then what its topics still hold, then live events', async () => {
      await hub(0).send({ name: 'events' }, { data: 'before unknown' });
      const back = await app(last).connect('/events', { headers: { 'last-event-id': 'no-such-id' } });
      await everywhereCount(1);
      await hub(0).send({ name: 'events' }, { data: 'live after unknown' });
      await back.client.waitFor(() => back.client.dataOf('message').includes('live after unknown'), 'the live event');
      const seen = back.client.events.map((e) => e.event ?? e.data);
      // Where it was is unknown: everything still held may be news to it, once each, then live.
      expect(seen.slice(0, 2)).toEqual(['sse.open', 'sse.gap']);
      expect(seen.at(-1)).toBe('live after unknown');
      expect(seen.filter((data) => data === 'before unknown')).toEqual(['before unknown']);
      expect(seen.filter((data) => data === 'live after unknown')).toEqual(['live after unknown']);
      const gap = JSON.parse(back.client.eventsOf('sse.gap')[0].data);
      expect(gap).toEqual({ lastEventId: 'no-such-id', oldestAvailableId: expect.any(String), topics: expect.arrayContaining([{ name: 'events' }]) });
    });
  });

  describe('client id replacement', () => {
    it('the same client id under the same name on another instance replaces the first connection', async () => {
      const first = await app(0).connect('/events?clientId=dup&group=red');
      await everywhereCount(1);
      const second = await app(last).connect('/events?clientId=dup&group=blue');
      await first.client.end();
      expect(first.client.eventsOf('sse.close').map((e) => JSON.parse(e.data))).toEqual([{ reason: 'replaced' }]);
      await everywhereCount(1);
      for (let i = 0; i < n; i++) {
        expect(await hub(i).groups('events')).toEqual(['blue']);
        expect(await hub(i).exists({ name: 'events', clientId: 'dup' })).toBe(true);
      }
      expect(await hub(0).send({ name: 'events', clientId: 'dup' }, { data: 'to the new one' })).toEqual({ delivered: 1 });
      expect((await second.client.next('message')).data).toBe('to the new one');
      expect(second.client.ended).toBe(false);
      expect(second.client.eventsOf('sse.close')).toEqual([]);
    });

    it('the same client id under another name is not a replacement', async () => {
      const events = await app(0).connect('/events?clientId=same');
      await app(last).connect('/news?clientId=same');
      await everywhereCount(2);
      expect(await hub(0).count({ name: ['events', 'news'], clientId: 'same' })).toBe(2);
      // Proof that nothing was closed: a send after the second connection reaches the first.
      await hub(last).send({ name: 'events', clientId: 'same' }, { data: 'still here' });
      expect((await events.client.next('message')).data).toBe('still here');
      expect(events.client.eventsOf('sse.close')).toEqual([]);
    });
  });
}
