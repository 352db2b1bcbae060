import { Controller, Get } from '@nestjs/common';
import { filter, firstValueFrom } from 'rxjs';
import { SseConnection, SseContext, SseHub, SseInvalidArgumentError, SseModule, type SseTarget } from '../../lib/index.js';
import { platforms, startApp, type TestApp } from '../support/app.js';
import { untilNoConnections } from '../support/hub.js';
import { SseClientPool } from '../support/sse-client.js';
import { queryParam } from '../support/request-params.js';

@Controller()
class QueriesController {
  @Get('events')
  @SseConnection({ name: 'events', group: (req) => queryParam(req, 'group') })
  events() {}

  @Get('news')
  @SseConnection({ name: 'news', group: (req) => queryParam(req, 'group') })
  news() {}

  @Get('local')
  @SseConnection({ name: 'local-only', scope: 'local' })
  async local(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'hello' });
    // Pending forever: the connection stays open until the client leaves.
    await new Promise<void>(() => undefined);
  }
}

describe.each(platforms)('queries, replacement and lingering names ($name)', (platform) => {
  let t: TestApp;
  let hub: SseHub;
  const pool = new SseClientPool();

  beforeAll(async () => {
    t = await startApp(platform, { imports: [SseModule.forRoot()], controllers: [QueriesController] });
    hub = t.app.get(SseHub);
  });
  afterAll(() => t.close());
  afterEach(async () => {
    await pool.closeAll();
    await untilNoConnections(hub);
  });

  /** Resolves when the server has seen the given client disconnect. */
  const disconnectOf = (clientId: string) =>
    firstValueFrom(hub.events$.pipe(filter((e) => e.type === 'disconnect' && e.connection.clientId === clientId)));

  it('answers every query with nothing open', async () => {
    expect(await hub.names()).toEqual([]);
    expect(await hub.groups('events')).toEqual([]);
    expect(await hub.clientIds({ name: 'events' })).toEqual([]);
    expect(await hub.hasName('events')).toBe(false);
    expect(await hub.exists({ name: 'events', clientId: 'a' })).toBe(false);
    expect(await hub.count()).toBe(0);
    expect(await hub.count({ name: 'events' })).toBe(0);
  });

  it('names, groups, clientIds, hasName, exists and count describe the open connections', async () => {
    await pool.connect(`${t.url}/events?clientId=a&group=red`);
    await pool.connect(`${t.url}/events?clientId=b&group=blue`);
    await pool.connect(`${t.url}/events?clientId=c`);
    await pool.connect(`${t.url}/news?clientId=n&group=red`);

    expect((await hub.names()).sort()).toEqual(['events', 'news']);
    // An ungrouped connection adds no null or '' group.
    expect((await hub.groups('events')).sort()).toEqual(['blue', 'red']);
    expect(await hub.groups('news')).toEqual(['red']);
    expect(await hub.groups('nothing')).toEqual([]);

    expect((await hub.clientIds({ name: 'events' })).sort()).toEqual(['a', 'b', 'c']);
    expect((await hub.clientIds({ name: ['events', 'news'], group: 'red' })).sort()).toEqual(['a', 'n']);
    expect(await hub.clientIds({ name: 'events', clientId: ['c', 'x'] })).toEqual(['c']);

    expect(await hub.hasName('events')).toBe(true);
    expect(await hub.hasName('Events')).toBe(false);
    expect(await hub.exists({ name: 'events', clientId: 'a' })).toBe(true);
    expect(await hub.exists({ name: 'news', clientId: 'a' })).toBe(false);
    expect(await hub.exists({ name: 'events', clientId: 'a', group: 'blue' })).toBe(false);
    expect(await hub.exists({ name: 'events', clientId: 'b', group: 'blue' })).toBe(true);

    expect(await hub.count()).toBe(4);
    expect(await hub.count({ name: 'events' })).toBe(3);
    expect(await hub.count({ name: ['events', 'news'], group: 'red' })).toBe(2);
    expect(await hub.count({ name: 'events', clientId: ['a', 'c'] })).toBe(2);
  });

  it('local connections are neither addressable nor counted', async () => {
    const { client, clientId } = await pool.connect(`${t.url}/local`);
    expect(await hub.names()).toEqual([]);
    expect(await hub.hasName('local-only')).toBe(false);
    expect(await hub.count()).toBe(0);
    expect(await hub.exists({ name: 'local-only', clientId })).toBe(false);
    expect(await hub.send({ name: 'local-only' }, { data: 'x' })).toEqual({ delivered: 0 });
    await client.next('message');
    expect(client.ended).toBe(false);
  });

  it('exists needs a client id; the queries refuse bad names', async () => {
    await expect(hub.exists({ name: 'events' })).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(hub.exists({ name: 'events' })).rejects.toThrow(/nestjs-sse-hub: exists\(\) needs a target with a clientId/);
    await expect(hub.groups('')).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(hub.hasName('a\nb')).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(hub.clientIds({ name: [] })).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(hub.count({} as SseTarget)).rejects.toBeInstanceOf(SseInvalidArgumentError);
  });

  it('a second connection with the same client id under the same name replaces the first', async () => {
    const first = await pool.connect(`${t.url}/events?clientId=dup&group=red`);
    const second = await pool.connect(`${t.url}/events?clientId=dup&group=blue`);
    await first.client.end();
    expect(first.client.eventsOf('sse.close').map((e) => JSON.parse(e.data))).toEqual([{ reason: 'replaced' }]);

    expect(await hub.count({ name: 'events' })).toBe(1);
    expect(await hub.groups('events')).toEqual(['blue']);
    expect(await hub.send({ name: 'events', clientId: 'dup' }, { data: 'to the new one' })).toEqual({ delivered: 1 });
    await second.client.next('message');
    expect(second.client.dataOf('message')).toEqual(['to the new one']);
    expect(second.client.ended).toBe(false);
  });

  it('the same client id under another name is not a replacement', async () => {
    const events = await pool.connect(`${t.url}/events?clientId=same`);
    await pool.connect(`${t.url}/news?clientId=same`);
    expect(await hub.count({ name: ['events', 'news'], clientId: 'same' })).toBe(2);
    expect(events.client.ended).toBe(false);
    expect(events.client.eventsOf('sse.close')).toEqual([]);
  });

  it('a name is gone once its last client is closed by the server', async () => {
    await pool.connect(`${t.url}/events?clientId=a&group=red`);
    await pool.connect(`${t.url}/events?clientId=b`);
    await hub.close({ name: 'events', clientId: 'a' });
    expect(await hub.hasName('events')).toBe(true);
    expect(await hub.groups('events')).toEqual([]);
    await hub.close({ name: 'events', clientId: 'b' });
    expect(await hub.hasName('events')).toBe(false);
    expect(await hub.names()).toEqual([]);
  });

  it('a name is gone once its last client destroys its socket', async () => {
    const a = await pool.connect(`${t.url}/events?clientId=a&group=red`);
    const b = await pool.connect(`${t.url}/events?clientId=b&group=red`);
    const aGone = disconnectOf('a');
    a.client.close();
    await aGone;
    expect(await hub.hasName('events')).toBe(true);
    expect(await hub.clientIds({ name: 'events' })).toEqual(['b']);
    const bGone = disconnectOf('b');
    b.client.close();
    await bGone;
    expect(await hub.hasName('events')).toBe(false);
    expect(await hub.groups('events')).toEqual([]);
    expect(await hub.count()).toBe(0);
    expect(await hub.send({ name: 'events' }, { data: 'x' })).toEqual({ delivered: 0 });
  });

  it('a replaced connection leaving does not remove its replacement', async () => {
    const first = await pool.connect(`${t.url}/events?clientId=dup`);
    await pool.connect(`${t.url}/events?clientId=dup`);
    await first.client.end();
    expect(await hub.exists({ name: 'events', clientId: 'dup' })).toBe(true);
    expect(await hub.hasName('events')).toBe(true);
  });
});
