import { Controller, Get } from '@nestjs/common';
import { createHook } from 'node:async_hooks';
import { SseConnection, SseModule } from '../../lib/index.js';
import { platforms, useApps, type TestApp } from '../support/app.js';
import type { SseClient } from '../support/sse-client.js';

@Controller()
class FeedController {
  @Get('feed')
  @SseConnection({ name: 'feed' })
  feed() {}
}

const CONNECTIONS = 1000;

/** Handles that keep a process alive (sockets, servers, ref'd timers), counted by kind. */
function liveHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPSocketWrap' || kind === 'TCPServerWrap' || kind === 'Timeout') {
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
  }
  return counts;
}

// Jest's reporter runs timers in this process too; they are not the app's.
const JEST_INTERNALS = /node_modules[\\/](@jest|jest-)/;

/** True when jest itself is creating the current resource (raw call sites: cheap, no source maps). */
function createdByJest(): boolean {
  const format = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, sites) => sites;
  const sites = new Error().stack as unknown as NodeJS.CallSite[];
  Error.prepareStackTrace = format;
  return sites.some((site) => JEST_INTERNALS.test(site.getFileName() ?? ''));
}

/**
 * Records every timer created from now on (except jest's) and forgets it once
 * it fired or was cleared: what is left and ref'd would keep the process alive.
 * (getActiveResourcesInfo() alone cannot tell the app's timers from jest's.)
 */
function trackTimers() {
  const live = new Map<number, { hasRef(): boolean }>();
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type === 'Timeout' && !createdByJest()) {
        live.set(id, resource as { hasRef(): boolean });
      }
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return {
    stop: () => hook.disable(),
    refd: () => [...live.values()].filter((timer) => timer.hasRef()).length,
  };
}

/** Waits (event-loop turns, bounded) until closing sockets have released their handles. */
async function settledHandles(expected: Map<string, number>): Promise<Map<string, number>> {
  let now = liveHandles();
  for (let turn = 0; turn < 10_000; turn++) {
    // A few turns at least: destroy hooks of cleared timers are delivered asynchronously.
    if (turn >= 3 && [...now].every(([kind, count]) => count <= (expected.get(kind) ?? 0))) break;
    await new Promise((resolve) => setImmediate(resolve));
    now = liveHandles();
  }
  return now;
}

/** Opens `count` connections, 100 at a time, each past `sse.open`. */
async function openClients(t: TestApp, count: number): Promise<SseClient[]> {
  const clients: SseClient[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, () => t.connect('/feed')));
    clients.push(...batch.map(({ client }) => client));
  }
  return clients;
}

describe.each(platforms)('delivery: shutdown ($name)', (platform) => {
  const apps = useApps(platform);
  let timers: ReturnType<typeof trackTimers> | undefined;
  afterEach(() => timers?.stop());

  it(`closes ${CONNECTIONS} open connections with sse.close and leaves no handle behind`, async () => {
    const before = liveHandles();
    timers = trackTimers();
    const t = await apps.start({ imports: [SseModule.forRoot({ keepAlive: 1000 })], controllers: [FeedController] });
    const clients = await openClients(t, CONNECTIONS);
    expect(await t.hub.count({ name: 'feed' })).toBe(CONNECTIONS);
    // The measure sees the sockets, so "none left" below means something.
    const sockets = (liveHandles().get('TCPSocketWrap') ?? 0) - (before.get('TCPSocketWrap') ?? 0);
    expect(sockets).toBeGreaterThanOrEqual(CONNECTIONS);

    await t.close();
    await Promise.all(clients.map((client) => client.end()));

    for (const client of clients) {
      const closes = client.eventsOf('sse.close');
      expect(closes.map((event) => JSON.parse(event.data))).toEqual([{ reason: 'shutdown' }]);
    }
    // No more sockets, servers or ref'd timers than before the app started
    // (unref'd timers are not listed: they never keep a process alive).
    const after = await settledHandles(before);
    timers.stop();
    expect({ refdTimersLeft: timers.refd() }).toEqual({ refdTimersLeft: 0 });
    for (const kind of ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']) {
      const count = after.get(kind) ?? 0;
      expect({ kind, count }).toEqual({ kind, count: Math.min(count, before.get(kind) ?? 0) });
    }
    // Generous: 2,000 sockets on a shared machine, slower still under --detectOpenHandles.
  }, 120_000);
});
