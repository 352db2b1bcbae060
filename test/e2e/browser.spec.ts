import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { filter } from 'rxjs';
import { SseHub, type SseConnectionInfo } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { platforms, request, useApp, useApps, type AppStarter, type TestApp } from '../support/app.js';
import { chromiumMissing, chromiumRequired, findChromium, launchChromium } from '../support/browser.js';
import { describeRedis, uniquePrefix, useRedisServer } from '../support/redis.js';

// The sample app (sample/) driven by a real headless Chromium: what a person sees on `npm start`.

// Functions passed to page.waitForFunction run in the page; the project compiles without the DOM lib.
declare const document: { getElementById(id: string): { textContent: string | null } | null };

const chromiumPath = findChromium();
const ARTIFACTS = 'test-artifacts';
// Generous: the machine is shared, and a browser test waits for real ticks and reconnects.
const TIMEOUT = 60_000;

/** Boots the sample's AppModule on loopback; `port` 0 picks a free one, a given one restarts on it. */
const startSample = (apps: AppStarter, port = 0): Promise<TestApp> => apps.start({ imports: [AppModule] }, { port });

/** One browser tab on the sample page, with what it did on the network and any script error it had. */
interface Tab {
  page: Page;
  /** Its browser context: another tab in it is the same browser (same cookies, same user). */
  context: BrowserContext;
  clientId: string;
  requests: Request[];
  errors: Error[];
}

/** Where a tab opens: a browser context of its own (like another person) unless given one, signed in as `user`. */
interface TabOptions {
  context?: BrowserContext;
  user?: string;
}

class Tabs {
  private contexts: BrowserContext[] = [];
  private tabs: Tab[] = [];

  constructor(private readonly browser: Browser) {}

  /** Opens the page and waits until it is connected. */
  async open(url: string, room: string, options: TabOptions = {}): Promise<Tab> {
    const tab = await this.visit(`${url}/?room=${encodeURIComponent(room)}`, options);
    await statusIs(tab.page, 'open');
    tab.clientId = await text(tab.page, '#client-id');
    expect(tab.clientId).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    return tab;
  }

  /** Opens a page at `url` without waiting for anything (the sample page, or another page of its origin). */
  async visit(url: string, options: TabOptions = {}): Promise<Tab> {
    let context = options.context;
    if (!context) {
      context = await this.browser.newContext({ viewport: { width: 1280, height: 860 } });
      this.contexts.push(context);
    }
    if (options.user) await context.addCookies([{ name: 'sample-user', value: options.user, url }]);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const tab: Tab = { page, context, clientId: '', requests: [], errors: [] };
    page.on('request', (req) => tab.requests.push(req));
    page.on('pageerror', (error) => tab.errors.push(error));
    this.tabs.push(tab);
    await page.goto(url);
    return tab;
  }

  /** Closes a tab's whole browser context (its connections go with it). */
  async close(tab: Tab): Promise<void> {
    expect(tab.errors.map((error) => error.message)).toEqual([]);
    this.tabs = this.tabs.filter((other) => other.context !== tab.context);
    this.contexts = this.contexts.filter((context) => context !== tab.context);
    await tab.context.close();
  }

  /** Closes every tab; a script error on any page fails the test. */
  async closeAll(): Promise<void> {
    const errors = this.tabs.flatMap((tab) => tab.errors.map((error) => error.message));
    await Promise.all(this.contexts.map((context) => context.close()));
    this.contexts = [];
    this.tabs = [];
    expect(errors).toEqual([]);
  }
}

/**
 * Opens a plain EventSource on `path` in a page (no library code), recording in
 * `window.probe` the client ids of its `sse.open`s and the data of its `sse.close`s.
 */
async function plainEventSource(page: Page, path: string): Promise<void> {
  await page.evaluate(`(() => {
    const source = new EventSource(${JSON.stringify(path)});
    window.probe = { source, opens: [], closes: [] };
    source.addEventListener('sse.open', (event) => window.probe.opens.push(JSON.parse(event.data).clientId));
    source.addEventListener('sse.close', (event) => window.probe.closes.push(event.data));
  })()`);
}

/** Reads `window.probe` of `plainEventSource`. */
const probe = (page: Page) =>
  page.evaluate('({ readyState: window.probe.source.readyState, opens: window.probe.opens, closes: window.probe.closes })') as Promise<{
    readyState: number;
    opens: string[];
    closes: string[];
  }>;

const text = async (page: Page, selector: string): Promise<string> => (await page.textContent(selector)) ?? '';
const statusIs = (page: Page, state: string) => page.waitForSelector(`#status[data-state="${state}"]`);
const chatLines = (page: Page) => page.locator('#chat-messages li').allTextContents();
const notices = (page: Page) => page.locator('#notices li').allTextContents();
const waitForListItem = (page: Page, list: string, hasText: string) =>
  page.locator(`${list} li`, { hasText }).first().waitFor();

/** Records the connections the app opens for `clientId`, as the server saw them (with their Last-Event-ID). */
function connectsOf(app: TestApp, clientId: string): SseConnectionInfo[] {
  const seen: SseConnectionInfo[] = [];
  app.app
    .get(SseHub)
    .events$.pipe(filter((event) => event.type === 'connect' && event.connection.clientId === clientId))
    .subscribe((event) => seen.push(event.connection));
  return seen;
}

/** Types a chat line and sends it; resolves with the POST the page made. */
async function say(page: Page, line: string): Promise<Request> {
  await page.fill('#chat-input', line);
  const [post] = await Promise.all([
    page.waitForRequest((req) => req.url().endsWith('/api/chat') && req.method() === 'POST'),
    page.click('#chat-form button'),
  ]);
  return post;
}

/** Waits until the server clock on the page has changed `ticks` times (events, not sleeps). */
async function waitForTicks(page: Page, ticks: number): Promise<void> {
  for (let i = 0; i < ticks; i++) {
    const before = await text(page, '#clock-time');
    await page.waitForFunction((shown) => document.getElementById('clock-time')?.textContent !== shown, before);
  }
}

if (!chromiumPath) {
  if (chromiumRequired) {
    describe('sample in a browser', () => {
      it('has Chromium (SSE_HUB_REQUIRE_CHROMIUM=1)', () => {
        throw new Error(`nestjs-sse-hub browser tests: ${chromiumMissing}`);
      });
    });
  } else {
    console.warn(`Skipping the browser tests: ${chromiumMissing}. Set SSE_HUB_REQUIRE_CHROMIUM=1 to fail instead.`);
    describe.skip('sample in a browser (no Chromium)', () => {
      it('needs Chromium', () => undefined);
    });
  }
} else {
  mkdirSync(ARTIFACTS, { recursive: true });

  describe.each(platforms)('sample in a browser ($name)', (platform) => {
    let browser: Browser;
    let tabs: Tabs;

    beforeAll(async () => {
      browser = await launchChromium(chromiumPath);
    }, TIMEOUT);
    afterAll(async () => {
      await browser?.close();
    });
    beforeEach(() => {
      tabs = new Tabs(browser);
    });
    // Declared before the apps: the tabs close first.
    afterEach(() => tabs.closeAll());
    // The browser's connections are not the pool's: no wait for none after each test.
    const t = useApp(platform, () => ({ imports: [AppModule] }), { settle: false });
    const apps = useApps(platform);

    it('delivers chat messages to their own room only', async () => {
      const alice = await tabs.open(t.url, 'red');
      const carol = await tabs.open(t.url, 'red');
      const bob = await tabs.open(t.url, 'blue');

      const post = await say(alice.page, 'hello red');
      // The POST named the page's connection, which the server resolved with @SseContext().
      expect(post.headers()['x-sse-client-id']).toBe(alice.clientId);
      expect(post.headers()['x-sse-name']).toBe('events');
      await waitForListItem(alice.page, '#chat-messages', 'hello red');
      await waitForListItem(carol.page, '#chat-messages', 'hello red');

      // Each socket delivers in order: had "hello red" leaked to blue, it would be there before "hello blue".
      await say(bob.page, 'hello blue');
      await waitForListItem(bob.page, '#chat-messages', 'hello blue');
      expect(await chatLines(bob.page)).toEqual(['you hello blue']);

      await say(carol.page, 'red again');
      await waitForListItem(alice.page, '#chat-messages', 'red again');
      await waitForListItem(carol.page, '#chat-messages', 'red again');
      expect(await chatLines(alice.page)).toEqual(['you hello red', `${carol.clientId.slice(0, 8)} red again`]);
      expect(await chatLines(carol.page)).toEqual([`${alice.clientId.slice(0, 8)} hello red`, 'you red again']);
    }, TIMEOUT);

    it('sends a private notification to exactly one client id', async () => {
      const alice = await tabs.open(t.url, 'lobby');
      const bob = await tabs.open(t.url, 'lobby');

      await bob.page.fill('#notify-client-id', alice.clientId);
      await bob.page.fill('#notify-text', 'psst, alice');
      await bob.page.click('#notify-form button');
      await bob.page.waitForFunction(() => document.getElementById('notify-result')?.textContent !== '');
      expect(await text(bob.page, '#notify-result')).toBe('delivered to 1 connection(s)');
      await waitForListItem(alice.page, '#notices', 'psst, alice');

      // Bob's own notice comes after Alice's on the wire: had hers reached him, it would be listed first.
      await bob.page.click('#notify-me');
      await waitForListItem(bob.page, '#notices', 'for you only');
      expect(await notices(bob.page)).toHaveLength(1);
      expect(await notices(alice.page)).toHaveLength(1);
    }, TIMEOUT);

    it('shows the server clock ticking (a @Cron job through the global connection)', async () => {
      const tab = await tabs.open(t.url, 'lobby');
      await tab.page.waitForFunction(() => document.getElementById('clock-time')?.textContent !== '–');
      const first = await text(tab.page, '#clock-time');
      await waitForTicks(tab.page, 2);
      expect(await text(tab.page, '#clock-time')).not.toBe(first);
      expect(Number(await text(tab.page, '#stat-connections'))).toBeGreaterThanOrEqual(1);
      expect(await text(tab.page, '#stat-rooms')).toContain('lobby');
    }, TIMEOUT);

    it('runs a countdown on a local connection that ends and does not reconnect', async () => {
      const tab = await tabs.open(t.url, 'lobby');
      const countdowns = () => tab.requests.filter((req) => new URL(req.url()).pathname === '/countdown');
      await tab.page.click('#countdown-start');
      await tab.page.waitForSelector('#countdown-panel[data-state="done"]');
      expect(await text(tab.page, '#countdown-value')).toBe('liftoff');
      const counted = await tab.page.locator('#log li[data-type="countdown"]').allTextContents();
      expect(counted.map((line) => line.split(' ').pop())).toEqual(['liftoff', '1', '2', '3']);

      // Without the page's sse.close handler the browser would reconnect after `retry` (1 s) and count
      // again; three clock ticks later it still has made one request.
      await waitForTicks(tab.page, 3);
      expect(countdowns()).toHaveLength(1);
      expect(await text(tab.page, '#countdown-value')).toBe('liftoff');
      expect(await tab.page.isEnabled('#countdown-start')).toBe(true);
    }, TIMEOUT);

    it('replays what a page missed while its connection was down', async () => {
      const tab = await tabs.open(t.url, 'lobby');
      await tab.page.waitForFunction(() => document.getElementById('last-event-id')?.textContent !== '–');

      // Hold the page's reconnect until the server has sent it something while it was away.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let reconnect!: (req: Request) => void;
      const reconnected = new Promise<Request>((resolve) => (reconnect = resolve));
      await tab.page.route('**/events?*', async (route) => {
        reconnect(route.request());
        await released;
        await route.continue();
      });

      const connects = connectsOf(t, tab.clientId);
      // A network drop, not a close: no sse.close, the browser reconnects with Last-Event-ID.
      (t.app.getHttpServer() as Server).closeAllConnections();
      await statusIs(tab.page, 'reconnecting');
      const lastIdBefore = await text(tab.page, '#last-event-id');
      const retry = await reconnected;
      const sent = await request(`${t.url}/api/notifications`, {
        method: 'POST',
        body: { clientId: tab.clientId, text: 'sent while you were away' },
      });
      expect(sent.body).toEqual({ delivered: 0 });
      release();

      expect(new URL(retry.url()).searchParams.get('clientId')).toBe(tab.clientId);
      await statusIs(tab.page, 'open');
      // The server saw the browser's own Last-Event-ID.
      expect(connects.map((connection) => connection.lastEventId)).toEqual([lastIdBefore]);
      await waitForListItem(tab.page, '#notices', 'sent while you were away');
      expect(await tab.page.isHidden('#gap-note')).toBe(true);
    }, TIMEOUT);

    it('renders every panel (screenshot in test-artifacts/)', async () => {
      const tab = await tabs.open(t.url, 'lobby');
      const friend = await tabs.open(t.url, 'lobby');
      await say(friend.page, 'Hi! Anyone here?');
      await say(tab.page, 'Hello from the other tab — ça marche');
      await waitForListItem(tab.page, '#chat-messages', 'Hello from the other tab');
      await tab.page.click('#notify-me');
      await waitForListItem(tab.page, '#notices', 'for you only');
      await tab.page.click('#countdown-start');
      await tab.page.waitForSelector('#countdown-panel[data-state="done"]');
      await tab.page.check('#log-clock');
      await waitForTicks(tab.page, 1);

      for (const panel of ['#clock-time', '#stat-connections', '#client-id', '#countdown-value']) {
        expect(await text(tab.page, panel)).not.toBe('–');
      }
      expect(await chatLines(tab.page)).toHaveLength(2);
      await tab.page.screenshot({ path: `${ARTIFACTS}/sample-${platform.name}.png`, fullPage: true });
    }, TIMEOUT);

    it('reconnects after the server restarts, keeping its client id', async () => {
      const first = await startSample(apps);
      const port = new URL(first.url).port;
      try {
        const tab = await tabs.open(first.url, 'red');
        await tab.page.waitForFunction(() => document.getElementById('clock-time')?.textContent !== '–');
        const streams = () => tab.requests.filter((req) => new URL(req.url()).pathname === '/events');
        const before = streams().length;

        // A graceful restart: sse.close with reason "shutdown", and the page keeps reconnecting.
        await first.close();
        await statusIs(tab.page, 'reconnecting');
        const lastIdSeen = await text(tab.page, '#last-event-id');
        const second = await startSample(apps, Number(port));
        const connects = connectsOf(second, tab.clientId);
        await statusIs(tab.page, 'open');
        expect(connects).toHaveLength(1);

        expect(await text(tab.page, '#client-id')).toBe(tab.clientId);
        const retry = streams().at(-1)!;
        expect(streams().length).toBeGreaterThan(before);
        expect(new URL(retry.url()).searchParams.get('clientId')).toBe(tab.clientId);
        expect(await tab.page.locator('#log li[data-type="sse.close"]', { hasText: 'shutdown' }).count()).toBe(1);

        // Live again: the clock ticks and the room works on the new process.
        await waitForTicks(tab.page, 1);
        await say(tab.page, 'back after the restart');
        await waitForListItem(tab.page, '#chat-messages', 'back after the restart');

        // The in-memory history died with the old process: the page is told to resync.
        expect(connects[0].lastEventId).toBe(lastIdSeen);
        await tab.page.waitForSelector('#gap-note:not([hidden])');
        expect(await text(tab.page, '#gap-note')).toContain(lastIdSeen);
        await tab.page.screenshot({ path: `${ARTIFACTS}/sample-restarted-${platform.name}.png`, fullPage: true });
      } finally {
        // The tabs first; the apps close after the test.
        await tabs.closeAll();
      }
    }, TIMEOUT);

    it('a user on two tabs: a private message to that user reaches both, and no one else', async () => {
      const first = await tabs.open(t.url, 'lobby');
      // Signing in on the page sets the cookie every tab of this browser sends, and reconnects as that user.
      await first.page.fill('#user-input', 'ann');
      await Promise.all([first.page.waitForEvent('load'), first.page.click('#user-form button')]);
      await statusIs(first.page, 'open');
      const second = await tabs.open(t.url, 'lobby', { context: first.context });
      const bob = await tabs.open(t.url, 'lobby', { user: 'bob' });
      expect([await text(first.page, '#user'), await text(second.page, '#user'), await text(bob.page, '#user')]).toEqual(['ann', 'ann', 'bob']);

      await bob.page.fill('#notify-user', 'ann');
      await bob.page.fill('#notify-user-text', 'hi ann, on every tab');
      await bob.page.click('#notify-user-form button');
      await bob.page.waitForFunction(() => document.getElementById('notify-result')?.textContent !== '');
      expect(await text(bob.page, '#notify-result')).toBe('delivered to 2 connection(s)');
      await waitForListItem(first.page, '#notices', 'hi ann, on every tab');
      await waitForListItem(second.page, '#notices', 'hi ann, on every tab');
      // Bob's own notice comes after Ann's on the wire: had hers reached him, it would be listed first.
      await bob.page.click('#notify-me');
      await waitForListItem(bob.page, '#notices', 'for you only');
      expect(await notices(bob.page)).toHaveLength(1);
    }, TIMEOUT);

    it('a room joined from the page receives that room’s chat; a room it left no longer does', async () => {
      const alice = await tabs.open(t.url, 'lobby');
      const bob = await tabs.open(t.url, 'blue');
      await alice.page.fill('#room-input', 'blue');
      await alice.page.click('#room-form button');
      await alice.page.waitForSelector('#room-list li[data-room="blue"]');
      expect(await text(alice.page, '#rooms')).toBe('lobby, blue');

      await say(bob.page, 'hello blue');
      await waitForListItem(alice.page, '#chat-messages', 'hello blue');

      await alice.page.click('#room-list li[data-room="blue"] button');
      await alice.page.waitForSelector('#room-list li[data-room="blue"]', { state: 'detached' });
      await say(bob.page, 'blue after you left');
      await waitForListItem(bob.page, '#chat-messages', 'blue after you left');
      // Sent after Bob's on the same stream: had Bob's reached Alice, it would come first.
      await say(alice.page, 'lobby after');
      await waitForListItem(alice.page, '#chat-messages', 'lobby after');
      expect(await chatLines(alice.page)).toEqual([`${bob.clientId.slice(0, 8)} hello blue`, 'you lobby after']);
    }, TIMEOUT);

    it('after hub.close(…, { reconnect: false }) a plain EventSource is answered 204 and ends CLOSED', async () => {
      const tab = await tabs.visit(`${t.url}/style.css`);
      const streams: number[] = [];
      tab.page.on('response', (response) => {
        if (new URL(response.url()).pathname === '/events') streams.push(response.status());
      });
      await plainEventSource(tab.page, '/events');
      await tab.page.waitForFunction('window.probe.opens.length === 1');
      const [clientId] = (await probe(tab.page)).opens;
      expect(await t.app.get(SseHub).close({ name: 'events', clientId }, { reconnect: false })).toBe(1);
      // The browser reconnects by itself, offering the stop token as Last-Event-ID: either it stops, or it opens again.
      await tab.page.waitForFunction('window.probe.source.readyState === EventSource.CLOSED || window.probe.opens.length > 1');
      expect(await probe(tab.page)).toEqual({ readyState: 2, opens: [clientId], closes: ['{"reason":"server","reconnect":false}'] });
      expect(streams).toEqual([200, 204]);
    }, TIMEOUT);

    it('a page refused by maxConnections gets in once a slot frees: with the client, and with a plain EventSource', async () => {
      const before = process.env.SSE_MAX_CONNECTIONS;
      process.env.SSE_MAX_CONNECTIONS = '1';
      let full: TestApp;
      try {
        full = await startSample(apps);
      } finally {
        if (before === undefined) delete process.env.SSE_MAX_CONNECTIONS;
        else process.env.SSE_MAX_CONNECTIONS = before;
      }
      try {
        const holder = await tabs.open(full.url, 'lobby');
        // The client is answered with the overload stream: it says so, and comes back after its retry.
        const waiting = await tabs.visit(`${full.url}/?room=lobby`);
        await waiting.page.waitForSelector('#status[data-state="reconnecting"]');
        expect(await text(waiting.page, '#status-text')).toContain('overloaded');
        await tabs.close(holder);
        await statusIs(waiting.page, 'open');

        // A plain EventSource, refused the same way while that page holds the slot, comes back by itself too.
        const plain = await tabs.visit(`${full.url}/style.css`);
        await plainEventSource(plain.page, '/events');
        await plain.page.waitForFunction('window.probe.closes.length > 0');
        expect((await probe(plain.page)).closes[0]).toBe('{"reason":"overloaded"}');
        await tabs.close(waiting);
        await plain.page.waitForFunction('window.probe.opens.length === 1');
        expect((await probe(plain.page)).readyState).toBe(1);
      } finally {
        await tabs.closeAll();
        await full.close();
      }
    }, TIMEOUT);
  });

  // With REDIS_URL the sample keeps its history in Redis: a restarted process
  // replays to the page what was sent while it was down.
  describeRedis('sample in a browser over Redis', () => {
    describe.each(platforms)('$name', (platform) => {
      let browser: Browser;
      const redis = useRedisServer();
      const env = { REDIS_URL: process.env.REDIS_URL, SSE_REDIS_PREFIX: process.env.SSE_REDIS_PREFIX };

      beforeAll(async () => {
        process.env.REDIS_URL = redis.url;
        process.env.SSE_REDIS_PREFIX = uniquePrefix(`browser-${platform.name}`);
        browser = await launchChromium(chromiumPath);
      }, TIMEOUT);
      afterAll(async () => {
        await browser?.close();
        for (const [key, value] of Object.entries(env)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      });
      // Started in the test, so closed after it, before Redis stops.
      const apps = useApps(platform);

      it('after a restart the page gets what was sent to it while the server was down', async () => {
        const tabs = new Tabs(browser);
        const first = await startSample(apps);
        // Another instance of the app on the same Redis, which stays up throughout.
        const other = await startSample(apps);
        try {
          const tab = await tabs.open(first.url, 'red');
          await waitForTicks(tab.page, 1);

          await first.close();
          await statusIs(tab.page, 'reconnecting');
          const lastIdSeen = await text(tab.page, '#last-event-id');
          // Sent through the other instance while the page has no connection anywhere.
          const sent = await request(`${other.url}/api/notifications`, {
            method: 'POST',
            body: { clientId: tab.clientId, text: 'sent while you were away' },
          });
          expect(sent.status).toBe(201);

          const restarted = await startSample(apps, Number(new URL(first.url).port));
          const connects = connectsOf(restarted, tab.clientId);
          await statusIs(tab.page, 'open');
          await waitForListItem(tab.page, '#notices', 'sent while you were away');
          // The client kept its id (the server issued it) and its last event id through the restart.
          expect(connects[0].clientId).toBe(tab.clientId);
          expect(await text(tab.page, '#client-id')).toBe(tab.clientId);
          expect(connects[0].lastEventId).toBe(lastIdSeen);
          expect(await tab.page.locator('#gap-note').isHidden()).toBe(true);
          expect((await notices(tab.page)).filter((line) => line.includes('sent while you were away'))).toHaveLength(1);
          await tab.page.screenshot({ path: `${ARTIFACTS}/sample-redis-restart-${platform.name}.png`, fullPage: true });
        } finally {
          // The tabs first; the apps close after the test.
          await tabs.closeAll();
        }
      }, TIMEOUT);
    });
  });
}
