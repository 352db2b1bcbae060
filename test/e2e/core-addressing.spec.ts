import { SseBroadcastLevelError, SseInvalidArgumentError, SseModule, type SseTarget } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { EventsAndNewsController } from '../support/streams.controller.js';

// Sends and closes by name, group and client id, and "send to nobody", are conformance cases
// (test/support/transport-conformance.ts): they run on every transport and platform.

describe.each(platforms)('addressing: malformed targets ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [EventsAndNewsController] }));

  it('refuses a malformed target with SseInvalidArgumentError and sends nothing', async () => {
    const { client } = await t.connect('/events?clientId=a&group=red');
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
    for (const target of bad) {
      await expect(t.hub.send(target as SseTarget, { data: 'refused' })).rejects.toBeInstanceOf(SseInvalidArgumentError);
      await expect(t.hub.close(target as SseTarget)).rejects.toBeInstanceOf(SseInvalidArgumentError);
    }
    // Whatever had been sent is on the socket before this marker.
    await t.hub.send({ name: 'events' }, { event: 'marker', data: '' });
    await client.next('marker');
    expect(client.events.map((e) => e.event ?? e.data)).toEqual(['sse.open', 'marker']);
  });
});

describe.each(platforms)('broadcast levels ($name)', (platform) => {
  const t = useApp(platform, () => ({
    imports: [SseModule.forRoot({ broadcastLevels: { events: 'group' } })],
    controllers: [EventsAndNewsController],
  }));
  afterEach(() => {
    t.hub.setBroadcastLevel('events', 'group');
    t.hub.setBroadcastLevel('*', 'name');
  });

  it('reads levels from the module option, with name as the default', () => {
    expect(t.hub.getBroadcastLevel('events')).toBe('group');
    expect(t.hub.getBroadcastLevel('news')).toBe('name');
  });

  it('refuses a violating send with SseBroadcastLevelError and sends nothing', async () => {
    const { client } = await t.connect(`/events?clientId=a&group=red`);
    const error = await t.hub.send({ name: 'events' }, { data: 'to everybody' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SseBroadcastLevelError);
    expect(error).toMatchObject({ connectionName: 'events', level: 'group' });
    expect((error as Error).message).toMatch(/^nestjs-sse-hub: .*needs a group or a client id/);
    expect(await t.hub.send({ name: 'events', group: 'red' }, { data: 'to red' })).toEqual({ delivered: 1 });
    expect(await t.hub.send({ name: 'events', clientId: 'a' }, { data: 'to a' })).toEqual({ delivered: 1 });
    await client.collect('message', 2);
    expect(client.dataOf('message')).toEqual(['to red', 'to a']);
  });

  it('setBroadcastLevel changes a name, and clientId requires a client id', async () => {
    const { client } = await t.connect(`/events?clientId=a&group=red`);
    t.hub.setBroadcastLevel('events', 'clientId');
    expect(t.hub.getBroadcastLevel('events')).toBe('clientId');
    await expect(t.hub.send({ name: 'events', group: 'red' }, { data: 'group' })).rejects.toMatchObject({
      constructor: SseBroadcastLevelError,
      level: 'clientId',
    });
    expect(await t.hub.send({ name: 'events', clientId: 'a' }, { data: 'direct' })).toEqual({ delivered: 1 });
    await client.next('message');
    expect(client.dataOf('message')).toEqual(['direct']);
  });

  it("'*' sets the level of every name that has none of its own", async () => {
    t.hub.setBroadcastLevel('*', 'clientId');
    expect(t.hub.getBroadcastLevel('news')).toBe('clientId');
    expect(t.hub.getBroadcastLevel('anything')).toBe('clientId');
    expect(t.hub.getBroadcastLevel('events')).toBe('group');
    await expect(t.hub.send({ name: 'news' }, { data: 'x' })).rejects.toBeInstanceOf(SseBroadcastLevelError);
  });

  it('testBroadcastLevel tells whether a send would be allowed', () => {
    expect(t.hub.testBroadcastLevel({ name: 'events' })).toBe(false);
    expect(t.hub.testBroadcastLevel({ name: 'events', group: 'red' })).toBe(true);
    expect(t.hub.testBroadcastLevel({ name: 'events', clientId: 'a' })).toBe(true);
    expect(t.hub.testBroadcastLevel({ name: 'news' })).toBe(true);
    expect(t.hub.testBroadcastLevel({ name: ['news', 'events'] })).toBe(false);
    t.hub.setBroadcastLevel('events', 'name');
    expect(t.hub.testBroadcastLevel({ name: 'events' })).toBe(true);
  });

  it('a send to several names is refused whole when one name forbids it', async () => {
    const news = await t.connect(`/news?clientId=n`);
    const events = await t.connect(`/events?clientId=a&group=red`);
    await expect(t.hub.send({ name: ['news', 'events'] }, { data: 'all' })).rejects.toBeInstanceOf(SseBroadcastLevelError);
    await t.hub.send({ name: ['news', 'events'], clientId: ['n', 'a'] }, { data: 'ok' });
    await news.client.next('message');
    await events.client.next('message');
    expect(news.client.dataOf('message')).toEqual(['ok']);
    expect(events.client.dataOf('message')).toEqual(['ok']);
  });

  it('refuses an unknown level or a bad name with SseInvalidArgumentError', () => {
    expect(() => t.hub.setBroadcastLevel('events', 'everyone' as never)).toThrow(SseInvalidArgumentError);
    expect(() => t.hub.setBroadcastLevel('', 'name')).toThrow(SseInvalidArgumentError);
    expect(() => t.hub.getBroadcastLevel('')).toThrow(SseInvalidArgumentError);
    expect(() => t.hub.getBroadcastLevel('a\nb')).toThrow(SseInvalidArgumentError);
    expect(() => t.hub.testBroadcastLevel({ name: '' })).toThrow(SseInvalidArgumentError);
    expect(t.hub.getBroadcastLevel('events')).toBe('group');
  });

  it('close is not limited by broadcast levels', async () => {
    const { client } = await t.connect(`/events?clientId=a&group=red`);
    expect(await t.hub.close({ name: 'events' })).toBe(1);
    await client.end();
  });
});
