import { Controller, Get, Post, Headers } from '@nestjs/common';
import { SseConnection, SseContext, SseHub, SseModule, type SseModuleOptions } from '../../lib/index.js';
import { platforms, useApp, useApps } from '../support/app.js';
import { nextLifecycle } from '../support/hub.js';
import type { EventSourceMessage, SseClient } from '../support/sse-client.js';
import { until } from '../support/wait.js';

@Controller()
class FeedController {
  @Get('feed')
  @SseConnection({ name: 'feed' })
  feed() {}

  @Get('chat')
  @SseConnection({ name: 'chat', group: (req: { query: { room?: string } }) => req.query.room })
  chat() {}

  /** Pode's "reference a connection from a normal request": ctx.send to the caller's connection. */
  @Post('whisper')
  async whisper(@SseContext() ctx: SseContext, @Headers('x-text') text: string) {
    await ctx.send({ data: text });
  }
}

const moduleWith = (options: SseModuleOptions = {}) => ({ imports: [SseModule.forRoot(options)], controllers: [FeedController] });

const messages = (client: SseClient): EventSourceMessage[] => client.eventsOf('message');
const data = (client: SseClient): string[] => messages(client).map((event) => event.data);
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));


describe.each(platforms)('delivery: replay ($name)', (platform) => {
  describe('a stream of 10,000 events', () => {
    const t = useApp(platform, () => moduleWith({ history: { size: 20_000 } }));

    it('survives a killed socket: both sessions together hold every event once, in order', async () => {
      const total = 10_000;
      const { client: first } = await t.connect('/feed');

      let sent = 0;
      const sending = (async () => {
        for (; sent < total; sent++) {
          await t.hub.send({ name: 'feed' }, { data: String(sent) });
          // Full speed, but let the sockets move now and then, so the kill lands mid-stream.
          if (sent % 100 === 99) await yieldToIo();
        }
      })();

      await first.waitFor(() => messages(first).length >= 2000, '2000 events');
      first.close();
      const firstSession = data(first);
      const resumeFrom = first.lastEventId!;
      const sentAtKill = sent;

      const second = await t.open('/feed', { headers: { 'last-event-id': resumeFrom } });
      await sending;
      await second.waitFor(() => firstSession.length + messages(second).length >= total, 'the rest', 30_000);

      expect(resumeFrom).toBe(messages(first)[firstSession.length - 1].id);
      expect(second.eventsOf('sse.gap')).toEqual([]);
      expect(second.events[0].event).toBe('sse.open');
      const all = [...firstSession, ...data(second)];
      expect(all.length).toBe(total);
      expect(all).toEqual(Array.from({ length: total }, (_, i) => String(i)));
      // Every event carried a distinct id, increasing as strings.
      const ids = [...messages(first), ...messages(second)].map((event) => event.id!);
      expect(new Set(ids).size).toBe(total);
      expect([...ids].sort()).toEqual(ids);
      console.info(`10,000-event replay: killed after ${firstSession.length} received, ${sentAtKill} sent`);
    });
  });

  describe('addressing', () => {
    const t = useApp(platform, () => moduleWith());

    it('replays to a client exactly what it would have got live: its groups, its client id, its name', async () => {
      const { client: alice } = await t.connect('/chat?room=a&clientId=alice');
      const { client: bob } = await t.connect('/chat?room=b&clientId=bob');
      await t.hub.send({ name: 'chat' }, { data: 'before' });
      await alice.next('message');
      const resumeFrom = alice.lastEventId!;

      const gone = nextLifecycle(t.hub, 'disconnect', { name: 'chat', clientId: 'alice' });
      alice.close();
      await gone;
      await t.hub.send({ name: 'chat', group: 'a' }, { data: 'for-a' });
      await t.hub.send({ name: 'chat', group: 'b' }, { data: 'for-b' });
      await t.hub.send({ name: 'chat', clientId: 'alice' }, { data: 'dm-alice' });
      await t.hub.send({ name: 'chat', clientId: 'bob' }, { data: 'dm-bob' });
      await t.hub.send({ name: 'chat', group: 'b', clientId: 'alice' }, { data: 'alice-if-in-b' });
      await t.hub.send({ name: 'chat', group: ['a', 'b'] }, { data: 'both-rooms' });
      await t.hub.send({ name: ['chat', 'elsewhere'] }, [{ data: 'batch-1' }, { data: 'batch-2' }]);
      await t.hub.send({ name: 'elsewhere' }, { data: 'other-name' });
      await t.hub.send({ name: 'chat', clientId: 'carol' }, { data: 'dm-carol' });

      const { client: back } = await t.connect('/chat?room=a&clientId=alice', { headers: { 'last-event-id': resumeFrom } });
      const { client: carol } = await t.connect(`/chat?room=b&clientId=carol&lastEventId=${resumeFrom}`);
      await t.hub.send({ name: 'chat' }, { data: 'live' });
      await Promise.all([back.collect('message', 6), carol.collect('message', 6), bob.collect('message', 7)]);

      expect(data(back)).toEqual(['for-a', 'dm-alice', 'both-rooms', 'batch-1', 'batch-2', 'live']);
      // Live, bob got what a replay for bob would contain.
      expect(data(bob)).toEqual(['before', 'for-b', 'dm-bob', 'both-rooms', 'batch-1', 'batch-2', 'live']);
      // The query parameter works like the header (EventSource polyfills).
      expect(data(carol)).toEqual(['for-b', 'both-rooms', 'batch-1', 'batch-2', 'dm-carol', 'live']);
      expect(back.events.map((event) => event.event ?? 'message').slice(0, 2)).toEqual(['sse.open', 'message']);
      expect(t.hub.stats().replaysServed).toBe(2);
    });

    it('gives ctx.send events an id and keeps them for the same client id', async () => {
      const { client: dana } = await t.connect('/chat?room=a&clientId=dana');
      await t.hub.send({ name: 'chat', clientId: 'dana' }, { data: 'first', id: 'caller-chosen' });
      await dana.next('message');
      const whisper = await t.request('/whisper', {
        method: 'POST',
        headers: { 'x-sse-name': 'chat', 'x-sse-client-id': 'dana', 'x-text': 'psst' },
      });
      expect(whisper.status).toBe(201);
      const [, psst] = await dana.collect('message', 2);
      expect(messages(dana)[0].id).toBe('caller-chosen');
      expect(psst.data).toBe('psst');
      expect(psst.id).toMatch(/^[0-9a-z]{9}-[0-9a-z]{11}$/);

      const again = await t.open('/chat?room=a&clientId=dana', { headers: { 'last-event-id': 'caller-chosen' } });
      await again.next('message');
      expect(messages(again).map((event) => [event.id, event.data])).toEqual([[psst.id, 'psst']]);
      // The same client id again: the first connection was replaced.
      await dana.end();
      expect(dana.eventsOf('sse.close').map((event) => JSON.parse(event.data))).toEqual([{ reason: 'replaced' }]);
    });
  });

  describe('stats and resuming too late', () => {
    const apps = useApps(platform);

    it('counts connections per name, events once each, and bytes per recipient', async () => {
      const t = await apps.start(moduleWith());
      const clients = [
        (await t.connect('/feed')).client,
        (await t.connect('/feed')).client,
        (await t.connect('/chat?room=a')).client,
      ];
      const before = t.hub.stats();
      expect(before).toMatchObject({ connections: 3, connectionsByName: { feed: 2, chat: 1 }, eventsSent: 0 });
      await t.hub.send({ name: 'feed' }, [{ data: 'a' }, { data: 'b' }]);
      await t.hub.send({ name: 'nobody' }, { data: 'c' });
      await Promise.all(clients.slice(0, 2).map((client) => client.collect('message', 2)));
      const after = t.hub.stats();
      expect(after.eventsSent).toBe(3);
      const frame = Buffer.byteLength(`id: ${clients[0].events[1].id}\ndata: a\n\n`);
      expect(after.bytesWritten - before.bytesWritten).toBe(2 * 2 * frame);
      expect(after).toMatchObject({ slowClientDisconnects: 0, replaysServed: 0, gapsSignalled: 0 });
    });

    it('answers an unknown id with sse.gap, then everything still held, then live events', async () => {
      const t = await apps.start(moduleWith());
      await t.hub.send({ name: 'feed' }, [{ data: 'old-1' }, { data: 'old-2' }]);
      const { client } = await t.connect('/feed', { headers: { 'last-event-id': 'no-such-id' } });
      await t.hub.send({ name: 'feed' }, { data: 'live' });
      await client.collect('message', 3);
      // Where it was is unknown: whatever its topics still hold may be news to it.
      expect(client.events.map((event) => event.event ?? event.data)).toEqual(['sse.open', 'sse.gap', 'old-1', 'old-2', 'live']);
      const gap = JSON.parse(client.events[1].data);
      expect(gap.lastEventId).toBe('no-such-id');
      expect(gap.topics).toContainEqual({ name: 'feed' });
      expect(gap.oldestAvailableId).toMatch(/^[0-9a-z]{9}-[0-9a-z]{11}$/);
      expect(t.hub.stats().gapsSignalled).toBe(1);
    });

    it('answers an id that fell out of the history (size) with the oldest id still held', async () => {
      const t = await apps.start(moduleWith({ history: { size: 3 } }));
      const { client: watcher } = await t.connect('/feed');
      for (let i = 1; i <= 5; i++) await t.hub.send({ name: 'feed' }, { data: `e${i}` });
      const ids = (await watcher.collect('message', 5)).map((event) => event.id!);

      const late = await t.open('/feed', { headers: { 'last-event-id': ids[0] } });
      const gap = JSON.parse((await late.next('sse.gap')).data);
      expect(gap).toEqual({ lastEventId: ids[0], oldestAvailableId: ids[2], topics: [{ name: 'feed' }] });
      const inTime = await t.open('/feed', { headers: { 'last-event-id': ids[2] } });
      await inTime.collect('message', 2);
      await t.hub.send({ name: 'feed' }, { data: 'live' });
      await Promise.all([late.collect('message', 4), inTime.collect('message', 3)]);
      // What the window still held follows the gap.
      expect(data(late)).toEqual(['e3', 'e4', 'e5', 'live']);
      expect(data(inTime)).toEqual(['e4', 'e5', 'live']);
      expect(inTime.eventsOf('sse.gap')).toEqual([]);
    });

    it('answers an expired id (ttl) with sse.gap and no oldest id, but not an up-to-date one', async () => {
      const t = await apps.start(moduleWith({ history: { ttl: 1 } }));
      const { client: watcher } = await t.connect('/feed');
      await t.hub.send({ name: 'feed' }, [{ data: 'e1' }, { data: 'e2' }]);
      const [e1, e2] = await watcher.collect('message', 2);
      // Past the 1 ms time-to-live (time passing is what this test is about, not a wait for an event).
      const sentBy = Date.now();
      await until(() => Date.now() > sentBy + 2, 'the time-to-live to pass');

      const late = await t.open('/feed', { headers: { 'last-event-id': e1.id! } });
      expect(JSON.parse((await late.next('sse.gap')).data)).toEqual({ lastEventId: e1.id, oldestAvailableId: null, topics: [{ name: 'feed' }] });
      const { client: upToDate } = await t.connect('/feed', { headers: { 'last-event-id': e2.id! } });
      await t.hub.send({ name: 'feed' }, { data: 'live' });
      await Promise.all([late.next('message'), upToDate.next('message')]);
      expect(upToDate.events.map((event) => event.event ?? event.data)).toEqual(['sse.open', 'live']);
      expect(data(late)).toEqual(['live']);
    });
  });
});
