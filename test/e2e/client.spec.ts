import { Controller, ForbiddenException, Get, Post } from '@nestjs/common';
import type { Server } from 'node:http';
import { filter, firstValueFrom } from 'rxjs';
import { SseConnection, SseHub, SseModule, type SseLifecycleEvent, type SseModuleOptions, type SseRequest } from '../../lib/index.js';
import { connect, type SseCloseInfo, type SseConnectOptions, type SseHubClient, type SseOpenInfo, type SseRetryInfo } from '../../lib/client.js';
import { platforms, startApp, type Platform, type TestApp } from '../support/app.js';
import { SseClientPool } from '../support/sse-client.js';
import { deferred, type Deferred } from '../support/deferred.js';

// nestjs-sse-hub/client in Node (fetch and web streams, as in a browser) against real apps.

type FeedEvents = { chat: { text: string }; notice: string; clock: { now: number } };

/** Holds the admission of /held until released (an async group callback), to keep a client away. */
let gate: Promise<void> = Promise.resolve();
let knocked: Deferred<void> = deferred();

@Controller()
class ClientController {
  @Get('feed')
  @SseConnection({ name: 'feed' })
  feed() {}

  @Get('held')
  @SseConnection<SseRequest>({
    name: 'feed',
    group: async () => {
      knocked.resolve();
      await gate;
      return undefined;
    },
  })
  held() {}

  @Post('posted')
  @SseConnection<SseRequest>({
    name: 'posted',
    group: (req) => String((req.body as { room?: string } | undefined)?.room),
    user: (req) => req.headers['x-user'] as string | undefined,
  })
  posted() {}

  @Get('forbidden')
  @SseConnection({ name: 'feed' })
  forbidden() {
    throw new ForbiddenException('not you');
  }
}

/** A client with everything it reported, and promises for the next of each. */
class Watched<E extends object> {
  readonly opens: SseOpenInfo[] = [];
  readonly retries: SseRetryInfo[] = [];
  readonly closed = deferred<SseCloseInfo>();
  private nextOpen = deferred<SseOpenInfo>();
  private nextRetry = deferred<SseRetryInfo>();
  readonly client: SseHubClient<E>;

  constructor(url: string, options: SseConnectOptions = {}) {
    this.client = connect<E>(url, {
      ...options,
      onOpen: (open) => {
        this.opens.push(open);
        this.nextOpen.resolve(open);
        this.nextOpen = deferred();
      },
      onRetry: (retry) => {
        this.retries.push(retry);
        this.nextRetry.resolve(retry);
        this.nextRetry = deferred();
      },
      onClose: (close) => this.closed.resolve(close),
    });
  }

  opened(): Promise<SseOpenInfo> {
    return this.nextOpen.promise;
  }

  retried(): Promise<SseRetryInfo> {
    return this.nextRetry.promise;
  }
}

async function start(platform: Platform, options: SseModuleOptions): Promise<TestApp> {
  return startApp(platform, { imports: [SseModule.forRoot(options)], controllers: [ClientController] });
}

const nextConnect = (hub: SseHub): Promise<SseLifecycleEvent> =>
  firstValueFrom(hub.events$.pipe(filter((event) => event.type === 'connect')));

describe.each(platforms)('nestjs-sse-hub/client in Node ($name)', (platform) => {
  const watched: Array<Watched<object>> = [];
  const watch = <E extends object>(url: string, options?: SseConnectOptions): Watched<E> => {
    const w = new Watched<E>(url, options);
    watched.push(w as unknown as Watched<object>);
    return w;
  };
  afterEach(() => {
    for (const w of watched.splice(0)) w.client.close();
  });

  describe('one app', () => {
    let t: TestApp;
    let hub: SseHub<FeedEvents>;

    beforeAll(async () => {
      t = await start(platform, { retry: 100 });
      hub = t.app.get(SseHub);
    });
    afterAll(() => t.close());

    it('hands typed events to their handlers, JSON-decoded (a text that is not JSON stays a string)', async () => {
      const w = watch<FeedEvents>(`${t.url}/feed`);
      const { clientId } = await w.opened();
      expect(w.client.clientId).toBe(clientId);
      expect(w.client.state).toBe('open');
      const chat = deferred<{ text: string }>();
      const notice = deferred<[string, string]>();
      w.client.on('chat', (data) => chat.resolve(data));
      w.client.on('notice', (data, event) => notice.resolve([data, event.lastEventId]));
      await hub.send({ name: 'feed', clientId }, [
        { event: 'chat', data: { text: 'hello' } },
        { event: 'notice', data: 'plain text' },
      ]);
      expect(await chat.promise).toEqual({ text: 'hello' });
      const [text, lastEventId] = await notice.promise;
      expect(text).toBe('plain text');
      expect(lastEventId).toBe(w.client.lastEventId);
      expect(lastEventId).not.toBe('');
    });

    it('after a drop it reopens with the same client id and last event id, and gets what was sent meanwhile, once', async () => {
      const w = watch<FeedEvents>(`${t.url}/held`);
      const { clientId } = await w.opened();
      const notices: string[] = [];
      w.client.on('notice', (data) => notices.push(data));
      await hub.send({ name: 'feed', clientId }, { event: 'notice', data: 'before' });
      while (notices.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const lastSeen = w.client.lastEventId;

      // Hold its reconnect at the door until something was sent to it while away.
      const release = deferred();
      gate = release.promise;
      knocked = deferred();
      const reconnected = nextConnect(hub);
      (t.app.getHttpServer() as Server).closeAllConnections();
      expect((await w.retried()).reason).toBe('network');
      await knocked.promise;
      expect(await hub.send({ name: 'feed', clientId }, { event: 'notice', data: 'while away' })).toEqual({ delivered: 0 });
      release.resolve();
      gate = Promise.resolve();

      const { connection } = await reconnected;
      expect(connection.clientId).toBe(clientId);
      expect(connection.lastEventId).toBe(lastSeen);
      expect((await w.opened()).clientId).toBe(clientId);
      await hub.send({ name: 'feed', clientId }, { event: 'notice', data: 'after' });
      while (notices.length < 3) await new Promise((resolve) => setImmediate(resolve));
      expect(notices).toEqual(['before', 'while away', 'after']);
    });

    it('POSTs its body and headers, again on every reconnect', async () => {
      const w = watch(`${t.url}/posted`, {
        method: 'POST',
        body: JSON.stringify({ room: 'blue' }),
        headers: { 'content-type': 'application/json', 'x-user': 'ann' },
      });
      const first = await w.opened();
      expect(first).toMatchObject({ name: 'posted', groups: ['blue'], user: 'ann' });
      await t.app.get(SseHub).close({ name: 'posted', clientId: first.clientId });
      expect((await w.retried()).reason).toBe('server');
      expect(await w.opened()).toMatchObject({ clientId: first.clientId, groups: ['blue'], user: 'ann' });
    });

    it('stops for good on sse.close with reconnect: false, and a later client offering that id gets 204', async () => {
      const w = watch(`${t.url}/feed`);
      const { clientId } = await w.opened();
      await hub.close({ name: 'feed', clientId }, { reconnect: false });
      expect(await w.closed.promise).toEqual({ reason: 'server' });
      expect(w.client.state).toBe('closed');
      expect(w.retries).toEqual([]);

      const again = watch(`${t.url}/feed`, { clientId });
      expect(await again.closed.promise).toEqual({ reason: 'stopped', status: 204 });
      expect(again.opens).toEqual([]);
    });

    it('stops on a 4xx (but 408), saying the status', async () => {
      const w = watch(`${t.url}/forbidden`);
      expect(await w.closed.promise).toEqual({ reason: 'status', status: 403 });
      expect(w.retries).toEqual([]);
    });

    it('close() stops it: the server sees it go, and it says why', async () => {
      const w = watch(`${t.url}/feed`);
      await w.opened();
      const gone = firstValueFrom(hub.events$.pipe(filter((event) => event.type === 'disconnect')));
      w.client.close();
      expect(await w.closed.promise).toEqual({ reason: 'client' });
      expect((await gone).connection.clientId).toBe(w.client.clientId);
    });
  });

  it.each<['reject' | 'retry', string]>([
    ['reject', 'a 503 (after Retry-After)'],
    ['retry', 'the overload stream (after its spread retry)'],
  ])("overload '%s': refused while full, it gets in once a slot frees, from %s", async (overload) => {
    const t = await start(platform, { maxConnections: 1, overload, retry: 1000, reconnectSpread: 500 });
    const pool = new SseClientPool();
    try {
      const holder = await pool.connect(`${t.url}/feed`);
      const w = watch(`${t.url}/feed`);
      const refused = await w.retried();
      if (overload === 'reject') {
        expect(refused).toMatchObject({ reason: 'status', status: 503 });
        // Retry-After: 1 (the route's retry in seconds): never sooner.
        expect(refused.delay).toBeGreaterThanOrEqual(1000);
      } else {
        expect(refused.reason).toBe('overloaded');
        expect(refused.delay).toBeGreaterThanOrEqual(1000);
        expect(refused.delay).toBeLessThanOrEqual(1500);
      }
      holder.client.close();
      const { clientId } = await w.opened();
      expect(await t.app.get(SseHub).clientIds({ name: 'feed' })).toEqual([clientId]);
    } finally {
      for (const w of watched.splice(0)) w.client.close();
      await pool.closeAll();
      await t.close();
    }
  });

  it('on app.close() it is told to come back after a spread retry', async () => {
    const t = await start(platform, { retry: 2000, reconnectSpread: 1000 });
    const w = watch(`${t.url}/feed`);
    await w.opened();
    await t.close();
    const retry = await w.retried();
    expect(retry.reason).toBe('shutdown');
    expect(retry.delay).toBeGreaterThanOrEqual(2000);
    expect(retry.delay).toBeLessThanOrEqual(3000);
  });
});
