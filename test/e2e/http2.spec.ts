import type { ClientHttp2Session } from 'node:http2';
import { setTimeout as delay } from 'node:timers/promises';
import { SseModule } from '../../lib/index.js';
import { NetworkController } from '../support/network.controller.js';
import { useApp, useApps } from '../support/app.js';
import { until, firstOf } from '../support/wait.js';
import { SseClient } from '../support/sse-client.js';
import { fastifyH2, fastifyH2c, http2Get, Http2Sessions, removeTestCertificate } from '../support/http2.js';

// Fastify with `http2: true`, in clear text (h2c) and over TLS, read by node:http2 client sessions.

// Headers HTTP/2 forbids (RFC 9113 §8.2.2): a client must treat them as malformed.
const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

afterAll(removeTestCertificate);

describe.each([fastifyH2c, fastifyH2])('HTTP/2 ($name)', (platform) => {
  // Before useApp's hooks: the sessions close before it waits for no connection to be open.
  const sessions = new Http2Sessions();
  afterEach(sessions.closeAll);
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [NetworkController] }));

  /** Opens `count` event streams on one session and waits for each one's sse.open. */
  async function streams(session: ClientHttp2Session, count: number, path = '/events', headers?: Record<string, string>) {
    const clients = await Promise.all(Array.from({ length: count }, () => SseClient.overHttp2(session, path, { headers })));
    await Promise.all(clients.map((client) => client.opened()));
    return clients;
  }

  it('serves 12 event streams on one session, each gets a broadcast, none carries a connection-specific header', async () => {
    const session = await sessions.connect(t.url);
    const clients = await streams(session, 12);
    expect(await t.hub.count({ name: 'events' })).toBe(12);
    for (const client of clients) for (const header of CONNECTION_SPECIFIC) expect(client.headers[header]).toBeUndefined();
    expect(await t.hub.send({ name: 'events' }, { data: 'to all' })).toEqual({ delivered: 12 });
    for (const client of clients) expect((await client.next('message')).data).toBe('to all');
  });

  it('closes one stream, not the session: its siblings still receive, and the session is still open', async () => {
    const session = await sessions.connect(t.url);
    const [first, ...others] = await streams(session, 3);
    const { clientId } = await first.opened();
    await t.hub.close({ name: 'events', clientId });
    await first.end();
    expect(JSON.parse((await first.next('sse.close')).data)).toEqual({ reason: 'server' });
    await t.hub.send({ name: 'events' }, { data: 'after' });
    for (const client of others) expect((await client.next('message')).data).toBe('after');
    expect(session.closed || session.destroyed).toBe(false);
  });

  it('lets a client cancel one stream without touching the others', async () => {
    const session = await sessions.connect(t.url);
    const [first, ...others] = await streams(session, 3);
    first.close();
    await until(async () => (await t.hub.count({ name: 'events' })) === 2, 'the cancelled stream to leave the registry');
    expect(await t.hub.send({ name: 'events' }, { data: 'still here' })).toEqual({ delivered: 2 });
    for (const client of others) expect((await client.next('message')).data).toBe('still here');
  });

  it('gzips a stream over HTTP/2 and each event is decoded as it is sent', async () => {
    const session = await sessions.connect(t.url);
    const [client] = await streams(session, 1, '/zipped', { 'accept-encoding': 'gzip' });
    expect(client.headers['content-encoding']).toBe('gzip');
    for (let i = 0; i < 3; i++) {
      await t.hub.send({ name: 'zipped' }, { data: { i } });
      // Decoded before the next is sent: a compressor holding blocks back fails here.
      await client.waitFor(() => client.eventsOf('message').length === i + 1, `event ${i} through gunzip over HTTP/2`);
    }
    await t.hub.close({ name: 'zipped' });
    await client.end();
    expect(client.decodingError).toBeUndefined();
  });
});

describe.each([fastifyH2c, fastifyH2])('HTTP/2 sessions: keep-alives and app.close() ($name)', (platform) => {
  const sessions = new Http2Sessions();
  afterEach(sessions.closeAll);
  const apps = useApps(platform);

  it('sends keep-alive comments on each stream, and the session stays open (no socket timeout touched)', async () => {
    const t = await apps.start({ imports: [SseModule.forRoot({ keepAlive: 50 })], controllers: [NetworkController] });
    const session = await sessions.connect(t.url);
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    const clients = await Promise.all([1, 2].map(() => SseClient.overHttp2(session, '/events')));
    for (const client of clients) await client.waitFor(() => client.comments.length >= 3, 'three pings on this stream');
    for (const client of clients) expect(new Set(client.comments)).toEqual(new Set(['ping']));
    expect(goaway).toBe(false);
    expect(await t.hub.send({ name: 'events' }, { data: 'after pings' })).toEqual({ delivered: 2 });
    for (const client of clients) expect((await client.next('message')).data).toBe('after pings');
  });

  it('sends GOAWAY to every session (with a stream or idle) and returns while the clients keep them open', async () => {
    const t = await apps.start({ imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [NetworkController] });
    const streaming = await sessions.connect(t.url);
    const idle = await sessions.connect(t.url);
    const goaways = new Set<string>();
    streaming.on('goaway', () => goaways.add('streaming'));
    idle.on('goaway', () => goaways.add('idle'));
    const [client] = await Promise.all([SseClient.overHttp2(streaming, '/events')]);
    await client.opened();
    // A browser that fetched a page and keeps its session for later.
    expect(await http2Get(idle, '/hello')).toEqual({ status: 200, body: '{"hello":"world"}' });

    // The bound is a safety net for a shared machine; the outcome that matters is which came first.
    const outcome = await firstOf({ closed: t.close(), hung: delay(10_000, undefined, { ref: false }) });
    expect(outcome).toBe('closed');
    expect([...goaways].sort()).toEqual(['idle', 'streaming']);
    expect(JSON.parse((await client.next('sse.close')).data)).toEqual({ reason: 'shutdown' });
  });
});
