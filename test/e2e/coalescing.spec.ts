import { Body, Controller, Get, Post, Req } from '@nestjs/common';
import net from 'node:net';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { platforms, request, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';

@Controller()
class BurstController {
  constructor(private readonly hub: SseHub) {}

  @Get('feed')
  @SseConnection({ name: 'feed', group: (req: { query: Record<string, string | undefined> }) => req.query.room })
  open() {}

  /** Many sends in one synchronous step, to the name, to groups and to single ids, interleaved. */
  @Post('burst')
  burst(@Body() body: { clientId: string; close?: boolean }) {
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) void this.hub.send({ name: 'feed' }, { event: 'all', data: i });
      if (i % 3 === 1) void this.hub.send({ name: 'feed', group: 'red' }, { event: 'red', data: i });
      if (i % 3 === 2) void this.hub.send({ name: 'feed', clientId: body.clientId }, { event: 'one', data: i });
    }
    void this.hub.send({ name: 'feed' }, [{ event: 'all', data: 'x' }, { event: 'all', data: 'y' }]);
    if (body.close) void this.hub.close({ name: 'feed', group: 'red' });
    return {};
  }
}

/** Reads a response raw and counts the non-empty HTTP chunks of its body: one chunk is one write. */
function rawChunks(url: string, until: (body: string) => boolean): Promise<{ chunks: number; body: string }> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    socket.write(`GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      raw += data;
      const headEnd = raw.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      let rest = raw.slice(headEnd + 4);
      let chunks = 0;
      let body = '';
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        if (lineEnd < 0) break;
        const size = parseInt(rest.slice(0, lineEnd), 16);
        if (rest.length < lineEnd + 2 + size + 2) break;
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        rest = rest.slice(lineEnd + 2 + size + 2);
        if (size > 0) chunks++;
      }
      if (until(body)) {
        socket.destroy();
        resolve({ chunks, body });
      }
    });
    socket.on('error', reject);
  });
}

describe.each(platforms)('write coalescing ($name)', (platform) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(platform, { imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [BurstController] });
  });
  afterAll(() => t.close());

  it('gives each client exactly its events of a burst, in order, whatever the mix of targets', async () => {
    const red = await SseClient.open(`${t.url}/feed?room=red`);
    const blue = await SseClient.open(`${t.url}/feed?room=blue`);
    const alone = await SseClient.open(`${t.url}/feed`);
    const [, , aloneOpen] = await Promise.all([red.opened(), blue.opened(), alone.opened()]);
    await request(`${t.url}/burst`, { method: 'POST', body: { clientId: aloneOpen.clientId } });
    const expected = (types: string[]) => {
      const list: string[] = [];
      for (let i = 0; i < 30; i++) {
        const type = ['all', 'red', 'one'][i % 3];
        if (types.includes(type)) list.push(`${type}:${i}`);
      }
      return [...list, 'all:x', 'all:y'];
    };
    const seen = async (client: SseClient, count: number) =>
      (await client.waitFor(() => {
        const events = client.events.filter((e) => e.event !== 'sse.open');
        return events.length >= count && events;
      })).map((e) => `${e.event}:${e.data}`);
    expect(await seen(red, 22)).toEqual(expected(['all', 'red']));
    expect(await seen(blue, 12)).toEqual(expected(['all']));
    expect(await seen(alone, 22)).toEqual(expected(['all', 'one']));
    for (const client of [red, blue, alone]) client.close();
  });

  it('sends the frames of one tick in one write, each frame whole, and sse.close after them', async () => {
    const open = rawChunks(`${t.url}/feed?room=red`, (body) => body.includes('sse.close'));
    // The raw client is registered once the hub counts it.
    const hub = t.app.get(SseHub);
    const deadline = Date.now() + 10_000;
    while ((await hub.count({ name: 'feed', group: 'red' })) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    await request(`${t.url}/burst`, { method: 'POST', body: { clientId: 'nobody', close: true } });
    const { chunks, body } = await open;
    // One chunk for sse.open, one for the whole burst (one tick) and its close.
    expect(chunks).toBe(2);
    const frames = body.split('\n\n').filter(Boolean);
    expect(frames[0]).toContain('event: sse.open');
    expect(frames.slice(1, -1).map((f) => f.match(/event: (\w+)\ndata: (\w+)/)?.slice(1).join(':'))).toEqual([
      ...Array.from({ length: 30 }, (_, i) => i)
        .filter((i) => i % 3 !== 2)
        .map((i) => `${['all', 'red'][i % 3]}:${i}`),
      'all:x',
      'all:y',
    ]);
    expect(frames.at(-1)).toContain('event: sse.close');
  });
});
