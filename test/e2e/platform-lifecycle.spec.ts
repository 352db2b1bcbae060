import {
  Body,
  Controller,
  Get,
  Injectable,
  NotFoundException,
  Param,
  Post,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
} from '@nestjs/common';
import { interval, map, take } from 'rxjs';
import { SseConnection, SseContext, SseModule } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { nextLifecycle } from '../support/hub.js';

// One pass over what could differ between platforms: the request's way to a
// stream and back out (errors, scopes, POST, references, keep-alive, leaving, shutdown).

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    throw new UnauthorizedException('no token');
  }
}

@Controller()
class LifecycleController {
  @Get('events')
  @SseConnection({ name: 'events' })
  open() {}

  @Post('events')
  @SseConnection({ name: 'posted', group: (req: { body?: { room?: string } }) => req.body?.room })
  openByPost() {}

  @Get('denied')
  @UseGuards(DenyGuard)
  @SseConnection({ name: 'denied' })
  denied() {}

  @Get('missing/:id')
  @SseConnection({ name: 'missing' })
  async missing(@Param('id') id: string) {
    throw new NotFoundException(`no item ${id}`);
  }

  @Get('ticks')
  @SseConnection({ name: 'ticks', scope: 'local' })
  ticks() {
    return interval(1).pipe(
      take(3),
      map((n) => ({ event: 'tick', data: n })),
    );
  }

  @Get('broken')
  @SseConnection({ name: 'broken', scope: 'local' })
  async broken(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'first' });
    throw new UnauthorizedException('token expired');
  }

  @Get('forever')
  @SseConnection({ name: 'forever', scope: 'local' })
  forever() {
    return interval(1_000_000);
  }

  @Post('reply')
  async reply(@SseContext() ctx: SseContext, @Body() body: { text: string }) {
    await ctx.send({ event: 'reply', data: body.text });
    return { to: ctx.clientId };
  }
}

const modules = (keepAlive = 0) => ({
  imports: [SseModule.forRoot({ keepAlive })],
  controllers: [LifecycleController],
});

describe.each(platforms)('request to stream and back ($name)', (platform) => {
  const t = useApp(platform, () => modules());

  it('answers a guard refusal with its real status and no stream', async () => {
    const client = await t.open('/denied');
    await client.end();
    expect(client.status).toBe(401);
    expect(client.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(client.body)).toMatchObject({ statusCode: 401, message: 'no token' });
    expect(client.events).toEqual([]);
  });

  it('answers a handler exception before the stream with its real status', async () => {
    const client = await t.open('/missing/7');
    await client.end();
    expect(client.status).toBe(404);
    expect(JSON.parse(client.body)).toMatchObject({ statusCode: 404, message: 'no item 7' });
  });

  it('streams a local Observable and closes', async () => {
    const client = await t.open('/ticks');
    await client.end();
    expect(client.events.map((e) => `${e.event}:${e.data}`)).toEqual([
      expect.stringMatching(/^sse\.open:/),
      'tick:0',
      'tick:1',
      'tick:2',
      'sse.close:{"reason":"server"}',
    ]);
  });

  it('reports an exception after the stream opened as sse.error, then ends', async () => {
    const client = await t.open('/broken');
    await client.end();
    expect(client.status).toBe(200);
    expect(client.events.map((e) => `${e.event ?? 'message'}:${e.data}`)).toEqual([
      expect.stringMatching(/^sse\.open:/),
      'message:first',
      'sse.error:{"message":"token expired"}',
    ]);
  });

  it('opens a stream from a POST with a parsed JSON body', async () => {
    const { client, ...open } = await t.connect('/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ room: 'blue' }),
    });
    expect(open).toMatchObject({ name: 'posted', group: 'blue' });
    // Nest would answer a POST with 201; a stream is always 200.
    expect(client.status).toBe(200);
  });

  it('reaches a stream from an ordinary route with @SseContext()', async () => {
    const { client, clientId } = await t.connect('/events');
    const res = await t.request('/reply', {
      method: 'POST',
      headers: { 'x-sse-name': 'events', 'x-sse-client-id': clientId },
      body: { text: 'hello' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ to: clientId });
    expect((await client.next('reply')).data).toBe('hello');
  });

  it('answers 404 and 400 when @SseContext() finds no connection', async () => {
    const unknown = await t.request('/reply', {
      method: 'POST',
      headers: { 'x-sse-name': 'events', 'x-sse-client-id': 'nobody' },
      body: { text: 'x' },
    });
    expect(unknown.status).toBe(404);
    const missing = await t.request('/reply', { method: 'POST', body: { text: 'x' } });
    expect(missing.status).toBe(400);
  });

  it('forgets a client that goes away', async () => {
    const { client, clientId } = await t.connect('/events');
    expect(await t.hub.exists({ name: 'events', clientId })).toBe(true);
    const gone = nextLifecycle(t.hub, 'disconnect', { clientId });
    client.close();
    await gone;
    expect(await t.hub.exists({ name: 'events', clientId })).toBe(false);
  });
});

describe.each(platforms)('keep-alive ($name)', (platform) => {
  const t = useApp(platform, () => modules(10));

  it('pings an idle stream with a comment', async () => {
    const { client } = await t.connect('/events');
    await client.waitFor(() => client.comments.length >= 2, '2 pings');
    expect(client.comments.slice(0, 2).map((c) => c.trim())).toEqual(['ping', 'ping']);
    expect(client.events.map((e) => e.event)).toEqual(['sse.open']);
  });
});

describe.each(platforms)('shutdown ($name)', (platform) => {
  const t = useApp(platform, () => modules(), { perTest: true });

  it('app.close() returns with open global and local streams, each told why', async () => {
    const { client: global } = await t.connect('/events');
    const { client: local } = await t.connect('/forever');

    await t.close();

    await Promise.all([global.end(), local.end()]);
    for (const client of [global, local]) {
      expect(client.events.at(-1)).toMatchObject({ event: 'sse.close', data: '{"reason":"shutdown"}' });
    }
  });
});
