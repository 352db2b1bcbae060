import { Controller, Get, Post } from '@nestjs/common';
import { SseConnection, SseModule, type SseLifecycleEvent } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { nextLifecycle, untilNoConnections } from '../support/hub.js';
import { rawHttp, type RawResponse } from '../support/raw-http.js';
import type { SseClient } from '../support/sse-client.js';

let handlerRuns = 0;

@Controller()
class EventsController {
  @Get('events')
  @SseConnection({ name: 'events' })
  open() {
    handlerRuns++;
  }

  @Post('posted')
  @SseConnection({ name: 'posted' })
  openByPost() {}
}

const SECRET = 'a-secret-of-32-characters-long!!';

/** A 4xx answered by the app: a JSON body with a message, and never a stream. */
function expectRefused(response: RawResponse, status: number, message?: RegExp): void {
  expect(response.stream).toBe(false);
  expect(response.status).toBe(status);
  const body = JSON.parse(response.body) as { message: string };
  expect(typeof body.message).toBe('string');
  if (message) expect(body.message).toMatch(message);
}

describe.each(platforms)('hardening: HTTP inputs ($name)', (platform) => {
  // Each test checks right away that it left nothing behind (below), instead of waiting for it.
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [EventsController] }), { settle: false });
  const lifecycle: SseLifecycleEvent[] = [];
  /** Closes a client and waits until the server has none left (each test must leave nothing behind). */
  const leave = async (client: SseClient) => {
    client.close();
    await client.end();
    await untilNoConnections(t.hub);
  };
  beforeAll(() => {
    t.hub.events$.subscribe((event) => lifecycle.push(event));
  });
  beforeEach(() => {
    lifecycle.length = 0;
    handlerRuns = 0;
  });
  // Whatever a refused request did, it must leave nothing behind.
  afterEach(async () => {
    expect(await t.hub.count()).toBe(0);
    expect(await t.hub.names()).toEqual([]);
  });

  describe('client ids', () => {
    it.each([
      ['a control character (query)', '?clientId=a%0Ab', {}],
      ['a NUL (query)', '?clientId=%00', {}],
      ['an empty id (query)', '?clientId=', {}],
      ['257 characters (header)', '', { 'x-sse-client-id': 'x'.repeat(257) }],
    ])('%s → 400 with a message, no stream', async (_what, query, headers) => {
      const response = await rawHttp(`${t.url}/events${query}`, { headers });
      expectRefused(response, 400, /client id .* is invalid/);
      expect(lifecycle).toEqual([]);
      expect(handlerRuns).toBe(0);
    });
  });

  it.each([
    ['quotes and JSON', 'x","name":"evil'],
    ['backslashes and markup', 'a\\b</script>'],
    ['non-ASCII', 'é😀\u2028'],
  ])('an offered client id with %s is JSON-escaped in sse.open and percent-encoded in the header', async (_what, id) => {
    const { client, ...open } = await t.connect(`/events?clientId=${encodeURIComponent(id)}`);
    expect(open).toEqual({ clientId: id, name: 'events', group: null, groups: [] });
    expect(client.events).toHaveLength(1);
    const header = String(client.headers['x-sse-client-id']);
    expect(header === id || decodeURIComponent(header) === id).toBe(true);
    await leave(client);
  });

  describe('Last-Event-ID', () => {
    it('1,025 characters → 400 with a message', async () => {
      expectRefused(await rawHttp(`${t.url}/events`, { headers: { 'last-event-id': 'x'.repeat(1025) } }), 400, /Last-Event-ID is longer than 1024/);
      expectRefused(await rawHttp(`${t.url}/events?lastEventId=${'x'.repeat(1025)}`), 400, /Last-Event-ID is longer than 1024/);
    });

    it('1,024 characters is accepted', async () => {
      const lastEventId = 'x'.repeat(1024);
      const connected = nextLifecycle(t.hub, 'connect');
      const { client } = await t.connect('/events', { headers: { 'last-event-id': lastEventId } });
      expect(client.status).toBe(200);
      expect((await connected).connection.lastEventId).toBe(lastEventId);
      await leave(client);
    });

    it('100 KB in the header → 431 from the HTTP server itself, no stream, and the app still serves', async () => {
      // Node refuses heads over its max header size (16 KB) before any app code: no body can be added there.
      const response = await rawHttp(`${t.url}/events`, { headers: { 'last-event-id': 'x'.repeat(100 * 1024) } });
      expect(response.stream).toBe(false);
      expect(response.status).toBe(431);
      const { client } = await t.connect('/events');
      expect(client.status).toBe(200);
      await leave(client);
    });

    it('100 KB in the query → 4xx, no stream', async () => {
      const response = await rawHttp(`${t.url}/events?lastEventId=${'x'.repeat(100 * 1024)}`);
      expect(response.stream).toBe(false);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    });
  });

  describe('Accept', () => {
    it.each([
      ['text/event-stream'],
      ['*/*'],
      ['text/*'],
      ['application/json, text/event-stream;q=0.5'],
      ['application/json, */*;q=0.1'],
      ['TEXT/EVENT-STREAM'],
    ])('Accept %j opens the stream', async (accept) => {
      const { client } = await t.connect('/events', { headers: { accept } });
      expect(client.status).toBe(200);
      await leave(client);
    });

    it('no Accept at all opens the stream (RFC 9110: anything is acceptable)', async () => {
      const response = await rawHttp(`${t.url}/events`);
      expect(response.status).toBe(200);
      expect(response.stream).toBe(true);
      await untilNoConnections(t.hub);
    });

    it.each([['application/json'], ['text/html'], ['text/event-stream;q=0, application/json'], ['image/*']])(
      'Accept %j → 406 with a message, no stream',
      async (accept) => {
        expectRefused(await rawHttp(`${t.url}/events`, { headers: { accept } }), 406, /answers text\/event-stream, which Accept .* does not allow/);
        expect(lifecycle).toEqual([]);
        expect(handlerRuns).toBe(0);
      },
    );
  });

  describe('methods and bodies', () => {
    it.each([['PUT'], ['DELETE'], ['PATCH']])('%s on the SSE GET path → 404 by the framework, no stream', async (method) => {
      const response = await rawHttp(`${t.url}/events`, { method, headers: { accept: 'text/event-stream' } });
      expect(response.stream).toBe(false);
      expect(response.status).toBe(404);
      expect(response.body).toMatch(new RegExp(`${method}`));
      expect(lifecycle).toEqual([]);
    });

    it('a GET with a JSON body → 400 with a message, no stream', async () => {
      const response = await rawHttp(`${t.url}/events`, {
        headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
        body: '{"a":1}',
      });
      expectRefused(response, 400, /body/);
      expect(lifecycle).toEqual([]);
      expect(handlerRuns).toBe(0);
    });

    it('a GET with a chunked text body → 400 with a message, no stream', async () => {
      const response = await rawHttp(`${t.url}/events`, {
        headers: { accept: 'text/event-stream', 'content-type': 'text/plain' },
        body: 'hello',
        chunked: true,
      });
      expectRefused(response, 400, /body/);
      expect(handlerRuns).toBe(0);
    });

    it('a POST SSE route with a body still opens (POST is allowed to carry one)', async () => {
      const { client, name } = await t.connect('/posted', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"topic":"x"}',
      });
      expect(client.status).toBe(200);
      expect(name).toBe('posted');
      await leave(client);
    });

    it('HEAD → 200 with the stream head and no body; nothing registered, the handler never runs', async () => {
      const response = await rawHttp(`${t.url}/events`, { method: 'HEAD', headers: { accept: 'text/event-stream' } });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(response.body).toBe('');
      expect(handlerRuns).toBe(0);
      expect(lifecycle).toEqual([]);
      expect(await t.hub.count()).toBe(0);
    });

    it('HEAD gets the same refusals as GET (e.g. 406, 400)', async () => {
      const refused = await rawHttp(`${t.url}/events`, { method: 'HEAD', headers: { accept: 'application/json' } });
      expect(refused.status).toBe(406);
      const badId = await rawHttp(`${t.url}/events?clientId=%0A`, { method: 'HEAD' });
      expect(badId.status).toBe(400);
      expect(lifecycle).toEqual([]);
    });
  });
});

describe.each(platforms)('hardening: forged and garbled signed ids ($name)', (platform) => {
  const t = useApp(
    platform,
    () => ({ imports: [SseModule.forRoot({ signing: { secret: SECRET } })], controllers: [EventsController] }),
    { settle: false },
  );
  afterEach(async () => expect(await t.hub.count()).toBe(0));

  it.each([
    ['an unsigned id', 'plain-id', /not signed/],
    ['a signature that is not base64url HMAC', 's:abc.not-a-signature', /signature is not valid/],
    ['an empty signature part', 's:abc.x', /signature is not valid/],
    ['garbage after the prefix', 's:..........', /signature is not valid|not signed/],
  ])('%s → 400 with a message', async (_what, id, message) => {
    expectRefused(await rawHttp(`${t.url}/events`, { headers: { 'x-sse-client-id': id } }), 400, message);
    expectRefused(await rawHttp(`${t.url}/events?clientId=${encodeURIComponent(id)}`), 400, message);
  });
});
