import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SseModule } from '../../lib/index.js';
import { express, useApp, type Platform, type TestApp } from '../support/app.js';
import { describeChromium, launchChromium } from '../support/browser.js';
import { fastifyH2, removeTestCertificate } from '../support/http2.js';
import { NetworkController } from '../support/network.controller.js';
import { pageStreams, pageUntil, recordResponses } from '../support/page-streams.js';
import { until } from '../support/wait.js';

// A real Chromium against the two ways a browser reaches an origin: HTTP/2
// over TLS (a self-signed certificate, --ignore-certificate-errors) and plain
// HTTP/1.1, where the browser's limit of 6 connections per origin shows.

// Generous: the machine is shared and Chromium is slow to start.
const TIMEOUT = 60_000;

const appOf = (platform: Platform) =>
  useApp(platform, () => ({ imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [NetworkController] }));

describeChromium('Chromium and the network', (chromiumPath) => {
  let browser: Browser;
  let context: BrowserContext;
  beforeAll(async () => {
    browser = await launchChromium(chromiumPath, ['--ignore-certificate-errors']);
  }, TIMEOUT);
  afterAll(async () => {
    await browser?.close();
    removeTestCertificate();
  });

  /** A browser context per test, closed after it: called in each describe before its app, so the page's streams close before the app waits for none to be open. */
  function useContext() {
    beforeEach(async () => {
      context = await browser.newContext({ ignoreHTTPSErrors: true });
    });
    afterEach(() => context.close());
  }

  /** Opens the page with `n` EventSources on `path`, recording the response heads. */
  async function openPage(t: TestApp, n: number, path: string) {
    const page = await context.newPage();
    const responses = await recordResponses(page);
    await page.goto(`${t.url}/page?n=${n}&path=${path}`);
    return { page, streams: () => responses.filter((response) => new URL(response.url).pathname === path) };
  }

  /** Sends events one at a time; each must reach the page's first source before the next is sent. */
  async function sendOneByOne(t: TestApp, page: Page, name: string, count: number) {
    for (let i = 0; i < count; i++) {
      await t.hub.send({ name }, { data: `tick ${i}` });
      await pageUntil(page, `window.sse.messages[0].length === ${i + 1}`, `event ${i} decoded before the next is sent`);
    }
    expect((await pageStreams(page)).messages[0]).toEqual(Array.from({ length: count }, (_, i) => `tick ${i}`));
  }

  /** A compressed stream in the page: gzip on the wire (over `protocol`), each event decoded before the next is sent. */
  async function decodesGzipEventByEvent(t: TestApp, protocol: string) {
    const { page, streams } = await openPage(t, 1, '/zipped');
    await pageUntil(page, 'window.sse.opened === 1', 'the stream open');
    expect(streams()[0].headers['content-encoding']).toBe('gzip');
    expect(streams()[0].protocol).toBe(protocol);
    await sendOneByOne(t, page, 'zipped', 5);
  }

  describe('HTTP/2 over TLS (fastify)', () => {
    useContext();
    const t = appOf(fastifyH2);

    it('opens 12 EventSources to one origin on one HTTP/2 connection, and each receives a broadcast', async () => {
      const { page, streams } = await openPage(t, 12, '/events');
      await pageUntil(page, 'window.sse.opened === 12', '12 open streams');
      expect(await t.hub.count({ name: 'events' })).toBe(12);
      expect(streams()).toHaveLength(12);
      expect(new Set(streams().map((response) => response.protocol))).toEqual(new Set(['h2']));
      expect(new Set(streams().map((response) => response.connectionId)).size).toBe(1);
      expect(await t.hub.send({ name: 'events' }, { data: 'to all 12' })).toEqual({ delivered: 12 });
      await pageUntil(page, 'window.sse.messages.every((m) => m.length === 1)', 'the broadcast on every stream');
      expect((await pageStreams(page)).messages).toEqual(Array.from({ length: 12 }, () => ['to all 12']));
    }, TIMEOUT);

    it('decodes a gzip stream event by event, as it is sent', () => decodesGzipEventByEvent(t, 'h2'), TIMEOUT);
  });

  describe('HTTP/1.1 (express)', () => {
    useContext();
    const t = appOf(express);

    it('shows the browser limit: of 12 EventSources, 6 open and the 7th waits until one closes', async () => {
      const { page } = await openPage(t, 12, '/events');
      await until(async () => (await t.hub.count({ name: 'events' })) === 6, 'six streams at the server', 20_000);
      // A broadcast round trip: the page has seen everything the server sent, and still only 6 are open.
      expect(await t.hub.send({ name: 'events' }, { data: 'to the open ones' })).toEqual({ delivered: 6 });
      await pageUntil(page, 'window.sse.messages.filter((m) => m.length === 1).length === 6', 'the broadcast on the 6 open streams');
      const before = await pageStreams(page);
      expect(before.opened).toBe(6);
      expect(before.states.filter((state) => state === 1)).toHaveLength(6);
      expect(before.states.filter((state) => state === 0)).toHaveLength(6);
      // Closing one frees its connection: the 7th (waiting, not failed) opens on it.
      await page.evaluate('window.sse.sources.find((s) => s.readyState === 1).close()');
      await pageUntil(page, 'window.sse.opened === 7', 'the 7th stream open once a connection is free');
      expect((await pageStreams(page)).states.filter((state) => state === 1)).toHaveLength(6);
    }, TIMEOUT);

    it('decodes a gzip stream event by event, as it is sent', () => decodesGzipEventByEvent(t, 'http/1.1'), TIMEOUT);
  });
});
