import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseHub, SseModule, type SseModuleOptions } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { express, startApp, type TestApp } from '../support/app.js';
import { SseClientPool, type EventSourceMessage } from '../support/sse-client.js';
import { describeRedis, uniquePrefix, useRedis, type RedisServer } from '../support/redis.js';

// SseEvent.replay per event: false (live only, yet a position to resume from) and 'latest' (only the
// newest of its type per topic is kept, in its place). The same cases in memory and over Redis, where
// an instance started after the sends loads them (with their modes) from the stream.

@Controller()
class FeedController {
  @Get('feed')
  @SseConnection({ name: 'feed' })
  feed() {}
}

/** One way to run the apps: `senders[0]` is where clients connect, the last one sends. */
interface Setup {
  apps: TestApp[];
  /** An instance that starts after the sends (Redis: it loads them from the stream); the same app in memory. */
  late(): Promise<TestApp>;
  close(): Promise<void>;
}

const label = (event: EventSourceMessage) => `${event.event ?? 'message'}:${event.data}`;

function suite(name: string, setup: () => Promise<Setup>): void {
  describe(name, () => {
    let s: Setup;
    const pool = new SseClientPool();

    beforeAll(async () => {
      s = await setup();
    });
    afterEach(() => pool.closeAll());
    afterAll(() => s.close());

    const hubOf = (t: TestApp) => t.app.get(SseHub);
    const sender = () => hubOf(s.apps[s.apps.length - 1]);

    /** What a reconnect of `clientId` after `lastEventId` replays on `t`: everything up to a marker sent live. */
    async function replayOn(t: TestApp, clientId: string, lastEventId: string): Promise<string[]> {
      const query = `clientId=${encodeURIComponent(clientId)}&lastEventId=${encodeURIComponent(lastEventId)}`;
      const { client } = await pool.connect(`${t.url}/feed?${query}`);
      await hubOf(t).send({ name: 'feed', clientId }, { event: 'marker', data: 'end' });
      await client.next('marker');
      const seen = client.events.filter((event) => event.event !== 'sse.open' && event.event !== 'marker');
      client.close();
      await client.end();
      return seen.map(label);
    }

    it('replay: false is delivered live, never replayed, and its id is a position to resume from', async () => {
      const { client, clientId } = await pool.connect(`${s.apps[0].url}/feed`);
      await sender().send({ name: 'feed', clientId }, [
        { event: 'chat', data: 'a' },
        { event: 'tick', data: '1', replay: false },
        { event: 'chat', data: 'b' },
        { event: 'tick', data: '2', replay: false },
      ]);
      const live = await client.collect('tick', 2);
      const [a, tick1] = client.events.filter((event) => event.event === 'chat' || event.event === 'tick');
      expect(client.events.slice(1).map(label)).toEqual(['chat:a', 'tick:1', 'chat:b', 'tick:2']);
      expect(tick1.id).toBeDefined();

      expect(await replayOn(s.apps[0], clientId, a.id!)).toEqual(['chat:b']);
      // Not held, yet found by order: right after it, and no sse.gap.
      expect(await replayOn(s.apps[0], clientId, tick1.id!)).toEqual(['chat:b']);
      expect(await replayOn(s.apps[0], clientId, live[1].id!)).toEqual([]);
    });

    it("replay: 'latest' keeps only the newest of each type per target, in its place in send order", async () => {
      const { client, clientId } = await pool.connect(`${s.apps[0].url}/feed`);
      const start = { event: 'chat', data: 'start' };
      await sender().send({ name: 'feed', clientId }, [
        start,
        { event: 'clock', data: '1', replay: 'latest' },
        { event: 'chat', data: 'a' },
        { event: 'presence', data: 'p1', replay: 'latest' },
        { event: 'clock', data: '2', replay: 'latest' },
        { event: 'chat', data: 'b' },
        { event: 'clock', data: '3', replay: 'latest' },
        { event: 'chat', data: 'c' },
      ]);
      await client.collect('chat', 4);
      const ids = Object.fromEntries(client.events.slice(1).map((event) => [label(event), event.id!]));

      const expected = ['chat:a', 'presence:p1', 'chat:b', 'clock:3', 'chat:c'];
      expect(await replayOn(s.apps[0], clientId, ids['chat:start'])).toEqual(expected);
      // From a replaced event (no longer held): by order, right after it.
      expect(await replayOn(s.apps[0], clientId, ids['clock:1'])).toEqual(expected);
      expect(await replayOn(s.apps[0], clientId, ids['clock:2'])).toEqual(['chat:b', 'clock:3', 'chat:c']);
      // Another client's clock is another target: it does not replace this one's.
      await sender().send({ name: 'feed', clientId: 'someone-else' }, { event: 'clock', data: 'other', replay: 'latest' });
      expect(await replayOn(s.apps[0], clientId, ids['chat:start'])).toEqual(expected);
      // An instance that was not running when these were sent replays the same.
      expect(await replayOn(await s.late(), clientId, ids['chat:start'])).toEqual(expected);
    });
  });
}

const options: SseModuleOptions = { history: { size: 100 } };

suite('replay modes in memory', async () => {
  const app = await startApp(express, { imports: [SseModule.forRoot(options)], controllers: [FeedController] });
  return { apps: [app], late: async () => app, close: () => app.close() };
});

describeRedis('replay modes over Redis', () => {
  let redis: { url: string; server: RedisServer | undefined };
  afterAll(() => redis?.server?.stop());

  suite('two instances, and one started after the sends', async () => {
    redis = await useRedis();
    const keyPrefix = uniquePrefix('replay-modes');
    const start = () =>
      startApp(express, {
        imports: [SseModule.forRoot({ ...options, transport: new RedisTransport({ url: redis.url, keyPrefix }) })],
        controllers: [FeedController],
      });
    const apps = [await start(), await start()];
    return {
      apps,
      late: async () => {
        const late = await start();
        apps.push(late);
        return late;
      },
      close: async () => void (await Promise.all(apps.map((t) => t.close()))),
    };
  });
});
