import { Controller, Get } from '@nestjs/common';
import {
  SseBroadcastLevelError,
  SseConnection,
  SseHub,
  SseInvalidArgumentError,
  SseModule,
  type SseTarget,
} from '../../lib/index.js';
import { platforms, startApp, type TestApp } from '../support/app.js';
import { untilNoConnections } from '../support/hub.js';
import { SseClientPool, type SseClient } from '../support/sse-client.js';
import { queryParam } from '../support/request-params.js';

@Controller()
class AddressingController {
  @Get('events')
  @SseConnection({ name: 'events', group: (req) => queryParam(req, 'group') })
  events() {}

  @Get('news')
  @SseConnection({ name: 'news', group: (req) => queryParam(req, 'group') })
  news() {}
}

/** Who is connected in every addressing test: name, client id, group. */
const ROSTER = [
  { path: 'events', id: 'a', group: 'red' },
  { path: 'events', id: 'b', group: 'red' },
  { path: 'events', id: 'c', group: 'blue' },
  { path: 'events', id: 'd', group: undefined },
  { path: 'news', id: 'n1', group: 'red' },
  { path: 'news', id: 'n2', group: undefined },
] as const;

describe.each(platforms)('addressing: send and close by name, group and client id ($name)', (platform) => {
  let t: TestApp;
  let hub: SseHub;
  const pool = new SseClientPool();
  let clients: Record<string, SseClient>;
  let seq = 0;

  beforeAll(async () => {
    t = await startApp(platform, { imports: [SseModule.forRoot()], controllers: [AddressingController] });
    hub = t.app.get(SseHub);
  });
  afterAll(() => t.close());

  beforeEach(async () => {
    clients = {};
    for (const { path, id, group } of ROSTER) {
      const query = group === undefined ? `clientId=${id}` : `clientId=${id}&group=${group}`;
      clients[id] = (await pool.connect(`${t.url}/${path}?${query}`)).client;
    }
  });
  afterEach(async () => {
    await pool.closeAll();
    await untilNoConnections(hub);
  });

  /**
   * Runs a send with a unique payload, then a marker to everybody; once every
   * client has the marker, the ones that got the payload before it are the receivers.
   */
  async function receiversOf(send: (data: string) => Promise<unknown>): Promise<string[]> {
    const tag = `payload-${++seq}`;
    await send(tag);
    await hub.send({ name: ['events', 'news'] }, { event: 'marker', data: tag });
    const received: string[] = [];
    for (const [id, client] of Object.entries(clients)) {
      await client.waitFor(() => client.eventsOf('marker').some((e) => e.data === tag), `marker on ${id}`);
      if (client.dataOf('message').includes(tag)) received.push(id);
    }
    return received.sort();
  }

  const sendTo = (target: SseTarget, expected: number) => async (data: string) =>
    expect(await hub.send(target, { data })).toEqual({ delivered: expected });

  it('sends to one client id', async () => {
    expect(await receiversOf(sendTo({ name: 'events', clientId: 'b' }, 1))).toEqual(['b']);
  });

  it('sends to several client ids, each once even when listed twice', async () => {
    expect(await receiversOf(sendTo({ name: 'events', clientId: ['a', 'd', 'a'] }, 2))).toEqual(['a', 'd']);
  });

  it('sends to a group, leaving other groups and ungrouped clients out', async () => {
    expect(await receiversOf(sendTo({ name: 'events', group: 'red' }, 2))).toEqual(['a', 'b']);
  });

  it('sends to several groups', async () => {
    expect(await receiversOf(sendTo({ name: 'events', group: ['red', 'blue'] }, 3))).toEqual(['a', 'b', 'c']);
  });

  it('sends to a whole name, and only that name', async () => {
    expect(await receiversOf(sendTo({ name: 'events' }, 4))).toEqual(['a', 'b', 'c', 'd']);
    expect(await receiversOf(sendTo({ name: 'news' }, 2))).toEqual(['n1', 'n2']);
  });

  it('sends to several names', async () => {
    expect(await receiversOf(sendTo({ name: ['events', 'news'] }, 6))).toEqual(['a', 'b', 'c', 'd', 'n1', 'n2']);
  });

  it('a name listed twice is addressed once', async () => {
    const received = await receiversOf(sendTo({ name: ['news', 'news'] }, 2));
    expect(received).toEqual(['n1', 'n2']);
    expect(clients.n1.dataOf('message')).toHaveLength(1);
    expect(await hub.count({ name: ['news', 'news'] })).toBe(2);
    expect(await hub.clientIds({ name: ['news', 'news'], clientId: 'n1' })).toEqual(['n1']);
  });

  it('resolves names, then client ids, then groups (Pode order) when all three are given', async () => {
    // a and n1 are red; c is blue and n2 ungrouped, so the group filter drops them; x is nobody.
    const target: SseTarget = { name: ['events', 'news'], clientId: ['a', 'c', 'n1', 'n2', 'x'], group: 'red' };
    expect(await receiversOf(sendTo(target, 2))).toEqual(['a', 'n1']);
    expect(await receiversOf(sendTo({ name: 'events', clientId: 'c', group: ['red', 'blue'] }, 1))).toEqual(['c']);
  });

  it('a client id is looked up per name: the same id under another name is another client', async () => {
    expect(await receiversOf(sendTo({ name: 'news', clientId: 'a' }, 0))).toEqual([]);
  });

  it('a send to nobody resolves with delivered 0 and reaches nobody', async () => {
    expect(await receiversOf(sendTo({ name: 'nobody-here' }, 0))).toEqual([]);
    expect(await receiversOf(sendTo({ name: 'events', clientId: 'zz' }, 0))).toEqual([]);
    expect(await receiversOf(sendTo({ name: 'events', group: 'green' }, 0))).toEqual([]);
    expect(await receiversOf(sendTo({ name: 'events', group: [] }, 0))).toEqual([]);
    expect(await receiversOf(sendTo({ name: 'events', clientId: [] }, 0))).toEqual([]);
  });

  it('refuses a malformed target with SseInvalidArgumentError and sends nothing', async () => {
    const bad: unknown[] = [
      undefined,
      {},
      { name: [] },
      { name: '' },
      { name: 'ev\nents' },
      { name: 'events', group: 'r\u0000ed' },
      { name: 'events', clientId: 'x'.repeat(257) },
      { name: 'events', clientId: 42 },
    ];
    const received = await receiversOf(async (data) => {
      for (const target of bad) {
        await expect(hub.send(target as SseTarget, { data })).rejects.toBeInstanceOf(SseInvalidArgumentError);
      }
    });
    expect(received).toEqual([]);
  });

  /** Closes with the target; checks the count, who got sse.close {"reason":"server"} and whose response ended. */
  async function expectClosed(target: SseTarget, closedIds: string[]): Promise<void> {
    expect(await hub.close(target)).toBe(closedIds.length);
    for (const id of closedIds) {
      await clients[id].end();
      expect(clients[id].eventsOf('sse.close').map((e) => JSON.parse(e.data))).toEqual([{ reason: 'server' }]);
    }
    const stillOpen = Object.keys(clients).filter((id) => !closedIds.includes(id));
    // The others are still connected and reachable.
    const received = await receiversForOpen(stillOpen);
    expect(received).toEqual(stillOpen.sort());
  }

  async function receiversForOpen(ids: string[]): Promise<string[]> {
    const tag = `after-close-${++seq}`;
    await hub.send({ name: ['events', 'news'] }, { data: tag });
    for (const id of ids) await clients[id].waitFor(() => clients[id].dataOf('message').includes(tag), `${tag} on ${id}`);
    return Object.entries(clients)
      .filter(([, client]) => client.dataOf('message').includes(tag))
      .map(([id]) => id)
      .sort();
  }

  it('closes one client id', () => expectClosed({ name: 'events', clientId: 'c' }, ['c']));
  it('closes several client ids', () => expectClosed({ name: 'events', clientId: ['a', 'd'] }, ['a', 'd']));
  it('closes a group', () => expectClosed({ name: 'events', group: 'red' }, ['a', 'b']));
  it('closes several groups', () => expectClosed({ name: 'events', group: ['red', 'blue'] }, ['a', 'b', 'c']));
  it('closes a name', () => expectClosed({ name: 'news' }, ['n1', 'n2']));
  it('closes several names', () =>
    expectClosed({ name: ['events', 'news'] }, ['a', 'b', 'c', 'd', 'n1', 'n2']));
  it('closes by name + client id + group', () =>
    expectClosed({ name: ['events', 'news'], clientId: ['b', 'c', 'n1'], group: 'red' }, ['b', 'n1']));
  it('closing nobody resolves 0', () => expectClosed({ name: 'events', clientId: 'nobody' }, []));

  it('a closed client is no longer addressed', async () => {
    await hub.close({ name: 'events', clientId: 'a' });
    expect(await hub.send({ name: 'events', clientId: 'a' }, { data: 'late' })).toEqual({ delivered: 0 });
    expect(await hub.close({ name: 'events', clientId: 'a' })).toBe(0);
  });
});

describe.each(platforms)('broadcast levels ($name)', (platform) => {
  let t: TestApp;
  let hub: SseHub;
  const pool = new SseClientPool();

  beforeAll(async () => {
    t = await startApp(platform, {
      imports: [SseModule.forRoot({ broadcastLevels: { events: 'group' } })],
      controllers: [AddressingController],
    });
    hub = t.app.get(SseHub);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    hub.setBroadcastLevel('events', 'group');
    hub.setBroadcastLevel('*', 'name');
    await pool.closeAll();
  });

  it('reads levels from the module option, with name as the default', () => {
    expect(hub.getBroadcastLevel('events')).toBe('group');
    expect(hub.getBroadcastLevel('news')).toBe('name');
  });

  it('refuses a violating send with SseBroadcastLevelError and sends nothing', async () => {
    const { client } = await pool.connect(`${t.url}/events?clientId=a&group=red`);
    const error = await hub.send({ name: 'events' }, { data: 'to everybody' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SseBroadcastLevelError);
    expect(error).toMatchObject({ connectionName: 'events', level: 'group' });
    expect((error as Error).message).toMatch(/^nestjs-sse-hub: .*needs a group or a client id/);
    expect(await hub.send({ name: 'events', group: 'red' }, { data: 'to red' })).toEqual({ delivered: 1 });
    expect(await hub.send({ name: 'events', clientId: 'a' }, { data: 'to a' })).toEqual({ delivered: 1 });
    await client.collect('message', 2);
    expect(client.dataOf('message')).toEqual(['to red', 'to a']);
  });

  it('setBroadcastLevel changes a name, and clientId requires a client id', async () => {
    const { client } = await pool.connect(`${t.url}/events?clientId=a&group=red`);
    hub.setBroadcastLevel('events', 'clientId');
    expect(hub.getBroadcastLevel('events')).toBe('clientId');
    await expect(hub.send({ name: 'events', group: 'red' }, { data: 'group' })).rejects.toMatchObject({
      constructor: SseBroadcastLevelError,
      level: 'clientId',
    });
    expect(await hub.send({ name: 'events', clientId: 'a' }, { data: 'direct' })).toEqual({ delivered: 1 });
    await client.next('message');
    expect(client.dataOf('message')).toEqual(['direct']);
  });

  it("'*' sets the level of every name that has none of its own", async () => {
    hub.setBroadcastLevel('*', 'clientId');
    expect(hub.getBroadcastLevel('news')).toBe('clientId');
    expect(hub.getBroadcastLevel('anything')).toBe('clientId');
    expect(hub.getBroadcastLevel('events')).toBe('group');
    await expect(hub.send({ name: 'news' }, { data: 'x' })).rejects.toBeInstanceOf(SseBroadcastLevelError);
  });

  it('testBroadcastLevel tells whether a send would be allowed', () => {
    expect(hub.testBroadcastLevel({ name: 'events' })).toBe(false);
    expect(hub.testBroadcastLevel({ name: 'events', group: 'red' })).toBe(true);
    expect(hub.testBroadcastLevel({ name: 'events', clientId: 'a' })).toBe(true);
    expect(hub.testBroadcastLevel({ name: 'news' })).toBe(true);
    expect(hub.testBroadcastLevel({ name: ['news', 'events'] })).toBe(false);
    hub.setBroadcastLevel('events', 'name');
    expect(hub.testBroadcastLevel({ name: 'events' })).toBe(true);
  });

  it('a send to several names is refused whole when one name forbids it', async () => {
    const news = await pool.connect(`${t.url}/news?clientId=n`);
    const events = await pool.connect(`${t.url}/events?clientId=a&group=red`);
    await expect(hub.send({ name: ['news', 'events'] }, { data: 'all' })).rejects.toBeInstanceOf(SseBroadcastLevelError);
    await hub.send({ name: ['news', 'events'], clientId: ['n', 'a'] }, { data: 'ok' });
    await news.client.next('message');
    await events.client.next('message');
    expect(news.client.dataOf('message')).toEqual(['ok']);
    expect(events.client.dataOf('message')).toEqual(['ok']);
  });

  it('refuses an unknown level or a bad name with SseInvalidArgumentError', () => {
    expect(() => hub.setBroadcastLevel('events', 'everyone' as never)).toThrow(SseInvalidArgumentError);
    expect(() => hub.setBroadcastLevel('', 'name')).toThrow(SseInvalidArgumentError);
    expect(() => hub.getBroadcastLevel('')).toThrow(SseInvalidArgumentError);
    expect(() => hub.getBroadcastLevel('a\nb')).toThrow(SseInvalidArgumentError);
    expect(() => hub.testBroadcastLevel({ name: '' })).toThrow(SseInvalidArgumentError);
    expect(hub.getBroadcastLevel('events')).toBe('group');
  });

  it('close is not limited by broadcast levels', async () => {
    const { client } = await pool.connect(`${t.url}/events?clientId=a&group=red`);
    expect(await hub.close({ name: 'events' })).toBe(1);
    await client.end();
  });
});
