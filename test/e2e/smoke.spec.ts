import { Controller, Get, Post } from '@nestjs/common';
import { SseConnection, SseContext, SseHub, SseModule } from '../../lib/index.js';
import { platforms, request, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';

@Controller()
class EventsController {
  constructor(private readonly hub: SseHub) {}
  @Get('events')
  @SseConnection({ name: 'events' })
  open() {}

  @Post('broadcast')
  async broadcast() {
    return this.hub.send({ name: 'events' }, { data: { hello: 'world' } });
  }

  @Get('local')
  @SseConnection({ name: 'countdown', scope: 'local' })
  async local(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'one' });
    await new Promise((r) => setTimeout(r, 20));
    await ctx.send({ data: 'two' });
  }
}

describe.each(platforms)('smoke ($name)', (platform) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(platform, { imports: [SseModule.forRoot()], controllers: [EventsController] });
  });
  afterAll(() => t.close());

  it('opens, broadcasts and closes', async () => {
    const client = await SseClient.open(`${t.url}/events`);
    expect(client.status).toBe(200);
    const open = await client.opened();
    expect(open.name).toBe('events');
    const res = await request(`${t.url}/broadcast`, { method: 'POST' });
    expect(res.body).toEqual({ delivered: 1 });
    const msg = await client.next('message');
    expect(JSON.parse(msg.data)).toEqual({ hello: 'world' });
    client.close();
  });

  it('local scope closes itself', async () => {
    const client = await SseClient.open(`${t.url}/local`);
    await client.end();
    expect(client.events.map((e) => e.event ?? e.data)).toEqual(['sse.open', 'one', 'two', 'sse.close']);
  });
});
