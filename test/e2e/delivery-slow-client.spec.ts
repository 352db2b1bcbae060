import { Controller, Get } from '@nestjs/common';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SseConnection, SseModule } from '../../lib/index.js';
import { platforms, useApp, useApps, type TestApp } from '../support/app.js';

@Controller()
class FeedController {
  @Get('feed')
  @SseConnection({ name: 'feed' })
  feed() {}
}

// A full collection before each sample, so RSS shows what is retained, not
// garbage V8 has not collected yet (the readers alone make 100 MB of it).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;
const retainedRss = () => {
  collectGarbage();
  return process.memoryUsage().rss;
};

const MB = 1024 * 1024;
const EVENT_BYTES = 1024;
const TOTAL_BYTES = 50 * MB;
const EVENTS = TOTAL_BYTES / EVENT_BYTES;
const BATCH = 128;
// How far the fast readers may lag: they read, they are just not infinitely fast.
const WINDOW = 512;
const SAMPLE_EVERY = 4096;

/** A fast reader that keeps no events, only checks that they arrive complete and in order. */
async function fastReader(t: TestApp) {
  const state = { next: 0, broken: '' };
  const client = await t.open('/feed', {
    keepEvents: false,
    onEvent: (event) => {
      if (event.event !== undefined) return;
      const index = Number(event.data.slice(0, event.data.indexOf(':')));
      if (index !== state.next && !state.broken) state.broken = `expected ${state.next}, got ${index}`;
      if (event.data.length !== EVENT_BYTES && !state.broken) state.broken = `event ${index} is ${event.data.length} bytes`;
      state.next++;
    },
  });
  return { client, state };
}

describe.each(platforms)('delivery: slow clients ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [FeedController] }));
  const apps = useApps(platform);

  it('drops a client that stops reading during a 50 MB broadcast; the others get everything; memory stays bounded', async () => {
    const hub = t.hub;
    const readers = [await fastReader(t), await fastReader(t)];
    const { client: stalled } = await t.connect('/feed');
    await Promise.all(readers.map((r) => r.client.opened()));
    stalled.pause();

    const padding = 'x'.repeat(EVENT_BYTES);
    const payload = (i: number) => {
      const head = `${i}:`;
      return head + padding.slice(head.length);
    };
    const rssBefore = retainedRss();
    let rssPeak = rssBefore;
    for (let sent = 0; sent < EVENTS; ) {
      for (const end = sent + BATCH; sent < end; sent++) await hub.send({ name: 'feed' }, { data: payload(sent) });
      // Paced by the fast readers only: the stalled one never catches up.
      const behind = sent - WINDOW;
      await Promise.all(readers.map((r) => r.client.waitFor(() => r.state.next >= behind, `event ${behind}`)));
      if (sent % SAMPLE_EVERY === 0) rssPeak = Math.max(rssPeak, retainedRss());
    }
    await Promise.all(readers.map((r) => r.client.waitFor(() => r.state.next >= EVENTS, 'every event', 30_000)));
    const growthMb = (rssPeak - rssBefore) / MB;
    console.info(`slow client: server RSS grew by ${growthMb.toFixed(1)} MB while broadcasting ${TOTAL_BYTES / MB} MB`);

    for (const { state } of readers) {
      expect(state.broken).toBe('');
      expect(state.next).toBe(EVENTS);
    }
    const stats = hub.stats();
    expect(stats.slowClientDisconnects).toBe(1);
    expect(await hub.count({ name: 'feed' })).toBe(2);
    expect(stats.bytesWritten).toBeGreaterThan(2 * TOTAL_BYTES);
    // The stalled client's socket was cut: resumed, it reads what was in flight and sees the end.
    stalled.resume();
    await stalled.end();
    expect(growthMb).toBeLessThan(20);
    // 51,200 sends and 100 MB read over loopback: about 10 s on a quiet 2-core machine, several times that under load.
  }, 180_000);

  it('does not take a long replay (20 MB, far above maxBufferedBytes) for slowness', async () => {
    const big = await apps.start({ imports: [SseModule.forRoot({ history: { size: 20_000 } })], controllers: [FeedController] });
    const hub = big.hub;
    const events = 10_000;
    const padding = 'y'.repeat(2 * EVENT_BYTES);
    // Sent while nobody listens: it all lives in the history only.
    await hub.send({ name: 'feed' }, { id: 'start', data: 'start' });
    for (let i = 0; i < events; i++) await hub.send({ name: 'feed' }, { data: `${i}:${padding}` });

    let next = 0;
    let broken = '';
    const client = await big.open('/feed', {
      headers: { 'last-event-id': 'start' },
      keepEvents: false,
      onEvent: (event) => {
        if (event.event !== undefined) return;
        if (!broken && !event.data.startsWith(`${next}:`)) broken = `expected ${next}, got ${event.data.slice(0, 12)}`;
        next++;
      },
    });
    await client.opened();
    expect(client.eventsOf('sse.gap')).toEqual([]);
    await client.waitFor(() => next >= events || client.ended, 'the whole replay', 20_000);
    expect({ received: next, broken, ended: client.ended }).toEqual({ received: events, broken: '', ended: false });
    expect(hub.stats()).toMatchObject({ slowClientDisconnects: 0, replaysServed: 1 });
  });
});
