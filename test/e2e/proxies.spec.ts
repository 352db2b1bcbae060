import { setTimeout as delay } from 'node:timers/promises';
import { SseModule } from '../../lib/index.js';
import { NetworkController } from '../support/network.controller.js';
import { express, useApps, type TestApp } from '../support/app.js';
import { caddy, describeProxy, haproxy, nginx, ProxyProcess, type ProxyKind } from '../support/proxies.js';
import { SseClient, SseClientPool } from '../support/sse-client.js';
import { Http2Sessions } from '../support/http2.js';
import { selfSignedCertificate, type SelfSignedCertificate } from '../support/tls.js';
import { untilNoConnections } from '../support/hub.js';
import { firstOf } from '../support/wait.js';

// Real reverse proxies (Debian's nginx, Caddy, HAProxy) started on free ports
// with the configs of test/proxies/, in front of a real Express app. What
// these tests find is the README's "Deploying behind a proxy" table.

/** One proxy configuration and what it does to an event stream (the README's table). */
interface ProxyCase {
  kind: ProxyKind;
  config: string;
  /** Who compresses what the client gets on /events: the proxy ('gzip') or nobody (undefined). */
  proxyEncodes: 'gzip' | undefined;
  /**
   * A stream whose first write is 512 bytes or more (sse.open with a replay):
   * delivered event by event, or held by the proxy until the stream ends.
   */
  largeFirstWrite: 'prompt' | 'held';
}

const CASES: ProxyCase[] = [
  { kind: nginx, config: 'sse.conf', proxyEncodes: undefined, largeFirstWrite: 'prompt' },
  // gzip on: nginx compresses, and flushes after each event (X-Accel-Buffering: no makes the response unbuffered).
  { kind: nginx, config: 'gzip.conf', proxyEncodes: 'gzip', largeFirstWrite: 'prompt' },
  { kind: caddy, config: 'sse.Caddyfile', proxyEncodes: undefined, largeFirstWrite: 'prompt' },
  // encode gzip: a first write under 512 bytes (a plain sse.open) is left alone; a larger one is compressed and held.
  { kind: caddy, config: 'gzip.Caddyfile', proxyEncodes: undefined, largeFirstWrite: 'held' },
  { kind: caddy, config: 'gzip-fixed.Caddyfile', proxyEncodes: undefined, largeFirstWrite: 'prompt' },
  { kind: haproxy, config: 'sse.cfg', proxyEncodes: undefined, largeFirstWrite: 'prompt' },
  // compression: left alone, as the library sends Cache-Control: no-transform.
  { kind: haproxy, config: 'gzip.cfg', proxyEncodes: undefined, largeFirstWrite: 'prompt' },
];

const GZIP = { 'accept-encoding': 'gzip' };
const SPACING_MS = 500;

/** A dashboard tick, repetitive enough to be worth compressing. */
const tick = (i: number) => ({ seq: i, rows: Array.from({ length: 5 }, (_, row) => ({ symbol: `SYM${row}`, price: 100 + row + i })) });

/**
 * Sends `count` events at least SPACING_MS apart; each must reach the client
 * through the proxy before the next is sent. A proxy that buffers holds the
 * event back, and the wait fails naming it: the bound (10 s) is generous only
 * because the machine is shared; it never decides a pass.
 */
async function deliversEachAtOnce(t: TestApp, client: SseClient, name: string, where: string, count = 3): Promise<void> {
  const before = client.eventsOf('message').length;
  for (let i = 0; i < count; i++) {
    const sentAt = Date.now();
    await t.hub.send({ name }, { data: tick(i) });
    await client.waitFor(
      () => client.eventsOf('message').length === before + i + 1,
      `event ${i} through ${where} before event ${i + 1} is sent (a buffering proxy holds it)`,
    );
    expect(JSON.parse(client.eventsOf('message')[before + i].data).seq).toBe(i);
    // Pacing, not waiting for anything: the events go out SPACING_MS apart, as a ticker sends them.
    await delay(Math.max(0, SPACING_MS - (Date.now() - sentAt)));
  }
}

/** Sends `count` events SPACING_MS apart without waiting for them. */
async function sendPaced(t: TestApp, name: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (i > 0) await delay(SPACING_MS);
    await t.hub.send({ name }, { data: tick(i) });
  }
}

for (const { kind, config, proxyEncodes, largeFirstWrite } of CASES) {
  describeProxy(kind, `behind ${kind.name} (${config})`, () => {
    const where = `${kind.name} with test/proxies/${kind.name}/${config}`;
    const apps = useApps(express);
    const pool = new SseClientPool();
    let t: TestApp;
    let proxy: ProxyProcess;
    beforeAll(async () => {
      t = await apps.start({ imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [NetworkController] });
      proxy = await ProxyProcess.start(kind, config, { upstream: Number(new URL(t.url).port) });
    });
    afterEach(async () => {
      await pool.closeAll();
      await untilNoConnections(t.hub);
    });
    afterAll(() => proxy?.stop());

    it('delivers each event as it is sent, to a client that accepts gzip', async () => {
      const client = await pool.open(`${proxy.url()}/events`, { headers: GZIP });
      await client.opened();
      expect(client.headers['content-encoding']).toBe(proxyEncodes);
      await deliversEachAtOnce(t, client, 'events', where);
    });

    it('delivers each event as it is sent, to a client that does not accept gzip', async () => {
      const client = await pool.open(`${proxy.url()}/events`);
      await client.opened();
      expect(client.headers['content-encoding']).toBeUndefined();
      await deliversEachAtOnce(t, client, 'events', where);
    });

    it("passes a stream the library compressed as it is (the proxy's gzip leaves it alone)", async () => {
      const client = await pool.open(`${proxy.url()}/zipped`, { headers: GZIP });
      await client.opened();
      expect(client.headers['content-encoding']).toBe('gzip');
      await deliversEachAtOnce(t, client, 'zipped', where);
      await t.hub.close({ name: 'zipped' });
      await client.end();
      // One gzip member, decoded whole: not compressed twice.
      expect(client.decodingError).toBeUndefined();
    });

    it('passes Last-Event-ID: a reconnect through the proxy resumes where the client left', async () => {
      const first = await pool.open(`${proxy.url()}/events`, { headers: GZIP });
      await first.opened();
      await t.hub.send({ name: 'events' }, { data: 'before' });
      await first.next('message');
      const lastEventId = first.lastEventId;
      expect(lastEventId).toBeDefined();
      first.close();
      await untilNoConnections(t.hub);
      await t.hub.send({ name: 'events' }, { data: 'missed 1' });
      await t.hub.send({ name: 'events' }, { data: 'missed 2' });
      const again = await pool.open(`${proxy.url()}/events`, { headers: { ...GZIP, 'last-event-id': lastEventId! } });
      await again.collect('message', 2);
      expect(again.dataOf()).toEqual(['missed 1', 'missed 2']);
    });

    // A reconnect's replay goes out with sse.open in one write: over 512 bytes here.
    async function reconnectWithLargeReplay(): Promise<SseClient> {
      const first = await pool.open(`${proxy.url()}/events`);
      await first.opened();
      await t.hub.send({ name: 'events' }, { data: 'mark' });
      await first.next('message');
      first.close();
      await untilNoConnections(t.hub);
      await t.hub.send({ name: 'events' }, { data: { missed: 1, pad: 'x'.repeat(400) } });
      await t.hub.send({ name: 'events' }, { data: { missed: 2, pad: 'x'.repeat(400) } });
      return pool.open(`${proxy.url()}/events`, { headers: { ...GZIP, 'last-event-id': first.lastEventId! } });
    }

    if (largeFirstWrite === 'prompt') {
      it('delivers each event as it is sent after a first write of 512 bytes or more (a reconnect with its replay)', async () => {
        const client = await reconnectWithLargeReplay();
        await client.collect('message', 2);
        await deliversEachAtOnce(t, client, 'events', where);
      });
    } else {
      it('holds every event until the stream ends after a first write of 512 bytes or more (a reconnect with its replay)', async () => {
        const client = await reconnectWithLargeReplay();
        await sendPaced(t, 'events', 3);
        // Not one event, not even sse.open, in 1 s of events sent 500 ms apart: the proxy holds them.
        expect(client.received).toBe(0);
        await t.hub.close({ name: 'events' });
        await client.end();
        // ...and lets them all go at the end, in one burst.
        expect(client.events.map((event) => event.event ?? 'message')).toEqual(['sse.open', 'message', 'message', 'message', 'message', 'message', 'sse.close']);
      });
    }
  });
}

/** Configs whose idle timeout is 1 s: an idle stream is cut unless keep-alives come more often. */
const TIMEOUT_CASES: Array<{ kind: ProxyKind; config: string }> = [
  { kind: nginx, config: 'read-timeout.conf' },
  { kind: haproxy, config: 'timeout.cfg' },
];

for (const { kind, config } of TIMEOUT_CASES) {
  describeProxy(kind, `behind ${kind.name} with a 1 s idle timeout (${config})`, () => {
    const apps = useApps(express);
    const pool = new SseClientPool();
    let proxy: ProxyProcess | undefined;
    afterEach(async () => {
      await pool.closeAll();
      await proxy?.stop();
      proxy = undefined;
    });

    async function streamThrough(keepAlive: number): Promise<SseClient> {
      const t = await apps.start({ imports: [SseModule.forRoot({ keepAlive })], controllers: [NetworkController] });
      proxy = await ProxyProcess.start(kind, config, { upstream: Number(new URL(t.url).port) });
      const client = await pool.open(`${proxy.url()}/events`);
      await client.opened();
      return client;
    }

    it('cuts an idle stream without keep-alives', async () => {
      const client = await streamThrough(0);
      // Bound: a safety net ten times the proxy's timeout; the outcome is which came first.
      expect(await firstOf({ cut: client.end(), kept: delay(10_000, undefined, { ref: false }) })).toBe('cut');
    });

    it('keeps a stream whose keep-alives come more often than the timeout', async () => {
      const client = await streamThrough(250);
      // Eight pings: twice the proxy's timeout has passed, and the stream is still there.
      await client.waitFor(() => client.comments.length >= 8, `8 keep-alives through ${kind.name} (${config})`);
      expect(client.ended).toBe(false);
    });
  });
}

/** TLS proxies speaking HTTP/2 to clients and HTTP/1.1 to the app: how an Express app gets HTTP/2. */
const H2_CASES: Array<{ kind: ProxyKind; config: string }> = [
  { kind: nginx, config: 'h2-tls.conf' },
  { kind: caddy, config: 'h2-tls.Caddyfile' },
];

for (const { kind, config } of H2_CASES) {
  describeProxy(kind, `Express over HTTP/2 behind ${kind.name} (${config})`, () => {
    const apps = useApps(express);
    const sessions = new Http2Sessions();
    let t: TestApp;
    let proxy: ProxyProcess;
    let certificate: SelfSignedCertificate;
    beforeAll(async () => {
      certificate = selfSignedCertificate();
      t = await apps.start({ imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [NetworkController] });
      proxy = await ProxyProcess.start(kind, config, {
        upstream: Number(new URL(t.url).port),
        certFile: certificate.certFile,
        keyFile: certificate.keyFile,
      });
    });
    afterEach(async () => {
      sessions.closeAll();
      await untilNoConnections(t.hub);
    });
    afterAll(async () => {
      await proxy?.stop();
      certificate?.remove();
    });

    it('serves 12 event streams on one HTTP/2 connection (ALPN h2); each gets a broadcast and resumes with Last-Event-ID', async () => {
      const session = await sessions.connect(proxy.url('https'));
      expect(session.alpnProtocol).toBe('h2');
      const clients = await Promise.all(Array.from({ length: 12 }, () => SseClient.overHttp2(session, '/events')));
      await Promise.all(clients.map((client) => client.opened()));
      expect(await t.hub.count({ name: 'events' })).toBe(12);
      for (const client of clients) expect(client.headers.connection).toBeUndefined();
      expect(await t.hub.send({ name: 'events' }, { data: 'to all 12' })).toEqual({ delivered: 12 });
      for (const client of clients) expect((await client.next('message')).data).toBe('to all 12');
      await deliversEachAtOnce(t, clients[0], 'events', `${kind.name} over HTTP/2 (${config})`, 2);

      const lastEventId = clients[0].lastEventId!;
      for (const client of clients) client.close();
      await untilNoConnections(t.hub);
      await t.hub.send({ name: 'events' }, { data: 'missed' });
      const again = await SseClient.overHttp2(session, '/events', { headers: { 'last-event-id': lastEventId } });
      expect((await again.next('message')).data).toBe('missed');
    });
  });
}
