import { Body, Controller, Get, Post, Req } from '@nestjs/common';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { RawStream } from '../support/raw-http.js';
import type { SseClient } from '../support/sse-client.js';

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

describe.each(platforms)('write coalescing ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [BurstController] }));

  it('gives each client exactly its events of a burst, in order, whatever the mix of targets', async () => {
    const red = (await t.connect('/feed?room=red')).client;
    const blue = (await t.connect('/feed?room=blue')).client;
    const alone = await t.connect('/feed');
    await t.request('/burst', { method: 'POST', body: { clientId: alone.clientId } });
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
    expect(await seen(alone.client, 22)).toEqual(expected(['all', 'one']));
  });

  it('sends the frames of one tick in one write, each frame whole, and sse.close after them', async () => {
    // A bare socket, to see the chunks (one per write) that an HTTP client would hide.
    const raw = RawStream.open(`${t.url}/feed?room=red`);
    try {
      // Registered before its sse.open is written.
      await raw.next('sse.open');
      await t.request('/burst', { method: 'POST', body: { clientId: 'nobody', close: true } });
      await raw.next('sse.close');
      // One chunk for sse.open, one for the whole burst (one tick) and its close.
      expect(raw.chunks).toBe(2);
      // Each frame whole: the body is frames and blank lines, nothing else.
      expect(raw.body).toMatch(/^(?:(?:[a-z]+: [^\n]*\n)+\n)+$/);
      expect(raw.parser.typesAndData().map(([type, data]) => (type.startsWith('sse.') ? type : `${type}:${data}`))).toEqual([
        'sse.open',
        ...Array.from({ length: 30 }, (_, i) => i)
          .filter((i) => i % 3 !== 2)
          .map((i) => `${['all', 'red'][i % 3]}:${i}`),
        'all:x',
        'all:y',
        'sse.close',
      ]);
    } finally {
      raw.close();
    }
  });
});
