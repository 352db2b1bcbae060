import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseContext, SseInvalidArgumentError, SseModule, type SseEvent } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import type { SseClient } from '../support/sse-client.js';
import { queryParam } from '../support/request-params.js';

@Controller()
class WireController {
  @Get('events')
  @SseConnection({ name: 'events', group: (req) => queryParam(req, 'group') })
  events() {}

  @Get('cors')
  @SseConnection({ name: 'cors', allowAllOrigins: true })
  cors() {}

  @Get('fast-retry')
  @SseConnection({ name: 'fast-retry', retry: 250 })
  fastRetry() {}

  @Get('derived')
  @SseConnection({ name: 'derived', clientId: (req) => queryParam(req, 'user') })
  derived() {}

  @Get('unicode')
  @SseConnection({ name: 'événements 📣', group: (req) => queryParam(req, 'group') })
  unicode() {}

  @Get('resume')
  @SseConnection({ name: 'resume' })
  async resume(@SseContext() ctx: SseContext) {
    await ctx.send({ event: 'last-event-id', data: { lastEventId: ctx.lastEventId ?? null } });
  }
}

/** Checks the raw stream: blocks are separated by a blank line; a comment is always a block of its own. */
function expectWholeFrames(raw: string): void {
  const blocks = raw.split('\n\n');
  expect(blocks.pop()).toBe('');
  for (const block of blocks) {
    const lines = block.split('\n');
    if (lines.some((line) => line.startsWith(':'))) expect(block).toBe(': ping');
    else for (const line of lines) expect(line).toMatch(/^(event|data|id|retry): /);
  }
}

describe.each(platforms)('wire format ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot({ retry: 1500 })], controllers: [WireController] }));
  let client: SseClient;
  let clientId: string;
  beforeEach(async () => {
    ({ client, clientId } = await t.connect('/events'));
  });

  /** Sends one event to the test's client and returns it as the parser saw it. */
  async function roundTrip<T>(event: SseEvent<T>) {
    const from = client.events.length;
    expect(await t.hub.send({ name: 'events', clientId }, event)).toEqual({ delivered: 1 });
    return client.next(event.event ?? 'message', from);
  }

  it('splits multi-line (LF) data into one data: line each', async () => {
    expect((await roundTrip({ data: 'one\ntwo\nthree' })).data).toBe('one\ntwo\nthree');
    expect(client.raw).toContain('data: one\ndata: two\ndata: three\n\n');
  });

  it('treats CR-only and CRLF line breaks as line breaks too', async () => {
    expect((await roundTrip({ data: 'cr\ronly' })).data).toBe('cr\nonly');
    expect((await roundTrip({ data: 'cr\r\nlf' })).data).toBe('cr\nlf');
    expect((await roundTrip({ data: 'mixed\r\n\r\nend\r' })).data).toBe('mixed\n\nend\n');
    expect(client.raw).toContain('data: cr\ndata: only\n\n');
    expect(client.raw).not.toContain('\r');
  });

  it('carries unicode and emoji intact', async () => {
    const text = 'héllo wörld — 中文 — 🌍🚀 — \u{1F9D1}\u{200D}\u{1F4BB}';
    expect((await roundTrip({ data: text })).data).toBe(text);
    expect(JSON.parse((await roundTrip({ data: { text } })).data)).toEqual({ text });
  });

  it('JSON-encodes every non-string value', async () => {
    const object = { a: 1, nested: { list: [1, 'two', null], flag: true }, text: 'line\nbreak' };
    const event = await roundTrip({ data: object });
    expect(JSON.parse(event.data)).toEqual(object);
    // A JSON text never spans lines, whatever the strings inside.
    expect(event.data).not.toContain('\n');
    expect((await roundTrip({ data: 42 })).data).toBe('42');
    expect((await roundTrip({ data: null })).data).toBe('null');
    expect((await roundTrip({ data: [1, 2] })).data).toBe('[1,2]');
  });

  it('sends an empty string as an event with empty data (it is still dispatched)', async () => {
    const event = await roundTrip({ event: 'empty', data: '' });
    expect(event.data).toBe('');
    expect(client.raw).toContain('event: empty\ndata: \n\n');
  });

  it('sends event, id and retry fields', async () => {
    const event = await roundTrip({ event: 'update', id: 'evt-7', retry: 3000, data: 'x' });
    expect(event).toMatchObject({ event: 'update', id: 'evt-7', data: 'x' });
    expect(client.retry).toBe(3000);
  });

  it('several events in one send arrive whole and in order', async () => {
    const events: SseEvent[] = Array.from({ length: 20 }, (_, i) => ({ event: i % 2 ? 'odd' : 'even', id: `${i}`, data: `line ${i}\nmore ${i}` }));
    expect(await t.hub.send({ name: 'events', clientId }, events)).toEqual({ delivered: 1 });
    await client.waitFor(() => client.events.length >= 21);
    expect(client.events.slice(1).map((e) => [e.event, e.id, e.data])).toEqual(
      events.map((e) => [e.event, e.id, e.data]),
    );
  });

  it.each<[string, SseEvent<unknown>]>([
    ['LF in event', { event: 'a\nevent: sse.close', data: 'x' }],
    ['CR in event', { event: 'a\rb', data: 'x' }],
    ['CRLF in event', { event: 'a\r\nb', data: 'x' }],
    ['NUL in event', { event: 'a\u0000b', data: 'x' }],
    ['LF in id', { id: '1\ndata: injected', data: 'x' }],
    ['CR in id', { id: '1\r', data: 'x' }],
    ['NUL in id', { id: '\u0000', data: 'x' }],
    ['an sse.* event type', { event: 'sse.close', data: '{"reason":"server"}' }],
    ['sse.open', { event: 'sse.open', data: 'x' }],
    ['an empty event type', { event: '', data: 'x' }],
    ['a non-string event type', { event: 42 as unknown as string, data: 'x' }],
    ['a negative retry', { retry: -1, data: 'x' }],
    ['a fractional retry', { retry: 1.5, data: 'x' }],
    ['a function as data', { data: () => 1 }],
    ['a BigInt as data', { data: 10n }],
    ['no data property', { event: 'x' } as unknown as SseEvent],
  ])('refuses %s with SseInvalidArgumentError and sends nothing', async (_label, bad) => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(t.hub.send({ name: 'events' }, bad)).rejects.toBeInstanceOf(SseInvalidArgumentError);
    // A bad event among good ones: the whole send is refused.
    await expect(t.hub.send({ name: 'events' }, [{ data: 'good' }, bad])).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(t.hub.send({ name: 'events' }, { data: circular })).rejects.toThrow(/^nestjs-sse-hub: event data cannot be JSON-encoded/);
    await t.hub.send({ name: 'events' }, { event: 'after', data: 'good' });
    await client.next('after');
    expect(client.events.map((e) => e.event ?? 'message')).toEqual(['sse.open', 'after']);
    expectWholeFrames(client.raw.replace(/^retry: \d+\n/, ''));
  });

  it('writes retry:, then sse.open with JSON identity, on open', async () => {
    expect(client.raw.startsWith(`retry: 1500\nevent: sse.open\ndata: {"clientId":"${clientId}","name":"events","group":null,"groups":[]}\n\n`)).toBe(true);
    expect(client.retry).toBe(1500);
    const grouped = await t.connect('/events?group=red');
    expect(grouped.group).toBe('red');
  });

  it("a route's retry overrides the module's", async () => {
    const fast = await t.connect('/fast-retry');
    expect(fast.client.retry).toBe(250);
    expect(fast.client.raw.startsWith('retry: 250\nevent: sse.open\n')).toBe(true);
  });

  it('sends the SSE response headers', async () => {
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.headers['x-accel-buffering']).toBe('no');
    expect(client.headers['connection']).toBe('keep-alive');
    expect(client.headers['x-sse-client-id']).toBe(clientId);
    expect(client.headers['x-sse-name']).toBe('events');
    expect(client.headers).not.toHaveProperty('x-sse-group');
    expect(client.headers).not.toHaveProperty('access-control-allow-origin');
    expect(client.headers).not.toHaveProperty('content-length');
    expect(client.headers).not.toHaveProperty('content-encoding');
    const grouped = await t.connect('/events?group=red');
    expect(grouped.client.headers['x-sse-group']).toBe('red');
  });

  it('sends Access-Control-Allow-Origin: * only with allowAllOrigins', async () => {
    const cors = await t.connect('/cors', { headers: { origin: 'http://elsewhere.example' } });
    expect(cors.client.headers['access-control-allow-origin']).toBe('*');
  });

  it('percent-encodes non-ASCII names and groups in the headers, not in sse.open', async () => {
    const group = 'grüppe 1';
    const opened = await t.connect(`/unicode?group=${encodeURIComponent(group)}&clientId=${encodeURIComponent('ïd')}`);
    expect(opened.name).toBe('événements 📣');
    expect(opened.group).toBe(group);
    expect(opened.clientId).toBe('ïd');
    expect(opened.client.headers['x-sse-name']).toBe(encodeURIComponent('événements 📣'));
    expect(opened.client.headers['x-sse-group']).toBe(encodeURIComponent(group));
    expect(opened.client.headers['x-sse-client-id']).toBe(encodeURIComponent('ïd'));
    expect(await t.hub.send({ name: 'événements 📣', group }, { data: 'ok' })).toEqual({ delivered: 1 });
  });

  it('takes an offered client id from the X-Sse-Client-Id header or the clientId query parameter', async () => {
    expect((await t.connect('/events', { headers: { 'x-sse-client-id': 'from-header' } })).clientId).toBe('from-header');
    expect((await t.connect('/events?clientId=from-query')).clientId).toBe('from-query');
    const both = await t.connect('/events?clientId=query-loses', { headers: { 'x-sse-client-id': 'header-wins' } });
    expect(both.clientId).toBe('header-wins');
  });

  it("the route's clientId callback wins over an offered id", async () => {
    const opened = await t.connect('/derived?user=u-42&clientId=offered', { headers: { 'x-sse-client-id': 'offered' } });
    expect(opened.clientId).toBe('u-42');
    // Without a derived id the offered one is used.
    expect((await t.connect('/derived?clientId=offered')).clientId).toBe('offered');
  });

  it('exposes Last-Event-ID (header, else ?lastEventId) as ctx.lastEventId, the header winning', async () => {
    const lastIdOf = async (path: string, headers: Record<string, string> = {}) => {
      const opened = await t.connect(path, { headers });
      return (await opened.client.nextJson<{ lastEventId: string | null }>('last-event-id')).lastEventId;
    };
    expect(await lastIdOf('/resume')).toBeNull();
    expect(await lastIdOf('/resume', { 'last-event-id': 'h-1' })).toBe('h-1');
    expect(await lastIdOf('/resume?lastEventId=q-1')).toBe('q-1');
    expect(await lastIdOf('/resume?lastEventId=q-2', { 'last-event-id': 'h-2' })).toBe('h-2');
  });

  it('gives every connection a distinct 128-bit random id by default (22 base64url characters)', async () => {
    const ids = [clientId];
    for (let i = 0; i < 5; i++) ids.push((await t.connect('/events')).clientId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });
});

describe.each(platforms)('keep-alive ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot({ keepAlive: 50 })], controllers: [WireController] }));

  it('sends ": ping" comments on an idle connection', async () => {
    const { client } = await t.connect('/events');
    await client.waitFor(() => client.comments.length >= 2, 'two pings');
    expect(new Set(client.comments)).toEqual(new Set(['ping']));
    // No retry option anywhere: sse.open still says 3000, so a spread retry seen before never sticks.
    expect(client.retry).toBe(3000);
    expectWholeFrames(client.raw.replace(/^retry: \d+\n/, ''));
  });

  it('never puts a comment inside an event, while events and pings interleave', async () => {
    const { client } = await t.connect('/events');
    const big = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(50)}`).join('\n');
    let sent = 0;
    // Sends until pings have been seen between events (each send waits for the previous one to arrive).
    while (client.comments.length < 3 || sent < 5) {
      await t.hub.send({ name: 'events' }, [{ event: 'big', id: `${sent}`, data: big }, { data: `small ${sent}` }]);
      sent++;
      await client.waitFor(() => client.dataOf('message').length >= sent, `small ${sent}`);
      if (sent % 2 === 0) await client.waitFor(() => client.raw.endsWith(': ping\n\n'), 'a ping', 10_000);
    }
    expect(client.eventsOf('big').every((e) => e.data === big)).toBe(true);
    expect(client.eventsOf('big')).toHaveLength(sent);
    expectWholeFrames(client.raw);
  });
});
