import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { SseConnection, SseContext, SseModule } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { nextLifecycle } from '../support/hub.js';
import { queryParam } from '../support/request-params.js';

@Controller()
class ContextController {
  @Get('events')
  @SseConnection({ name: 'events', group: (req) => queryParam(req, 'group') })
  events() {}

  @Get('local')
  @SseConnection({ name: 'local', scope: 'local' })
  async local(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'hi' });
    await new Promise<void>(() => undefined);
  }

  /** Pode's X-Pode-Sse-* pattern: an ordinary request names its open connection and answers through it. */
  @Post('reply')
  @HttpCode(200)
  async reply(@SseContext() ctx: SseContext) {
    await ctx.send({ event: 'reply', data: { to: ctx.clientId } });
    return { name: ctx.name, clientId: ctx.clientId, group: ctx.group ?? null, scope: ctx.scope };
  }
}

describe.each(platforms)('@SseContext() on an ordinary route ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [ContextController] }));

  const reply = (headers: Record<string, string>) => t.request('/reply', { method: 'POST', headers });

  it('finds the connection from X-Sse-Name + X-Sse-Client-Id, and ctx.send reaches it', async () => {
    const { client, clientId } = await t.connect('/events');
    const other = await t.connect('/events');
    const res = await reply({ 'x-sse-name': 'events', 'x-sse-client-id': clientId });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'events', clientId, group: null, scope: 'global' });
    expect(JSON.parse((await client.next('reply')).data)).toEqual({ to: clientId });
    // Only that connection: a marker sent after the reply reaches the other one with no reply before it.
    await t.hub.send({ name: 'events' }, { event: 'marker', data: '' });
    await other.client.next('marker');
    expect(other.client.events.map((e) => e.event)).toEqual(['sse.open', 'marker']);
  });

  it('accepts a matching X-Sse-Group and answers 404 for another group', async () => {
    const { client, clientId } = await t.connect('/events?group=red');
    const ok = await reply({ 'x-sse-name': 'events', 'x-sse-client-id': clientId, 'x-sse-group': 'red' });
    expect(ok.status).toBe(200);
    expect(ok.body.group).toBe('red');
    await client.next('reply');
    const wrong = await reply({ 'x-sse-name': 'events', 'x-sse-client-id': clientId, 'x-sse-group': 'blue' });
    expect(wrong.status).toBe(404);
    expect(wrong.body.message).toMatch(/^nestjs-sse-hub: no open SSE connection/);
    expect(client.eventsOf('reply')).toHaveLength(1);
  });

  it('takes back the X-Sse-* values exactly as the stream sent them, percent-encoded where needed', async () => {
    const group = 'grüppe 1';
    // '%' is encoded too, so that a literal "a%20b" id is never read as "a b".
    for (const offered of ['ïd-ü', 'a%20b']) {
      const { client, clientId } = await t.connect(`/events?group=${encodeURIComponent(group)}&clientId=${encodeURIComponent(offered)}`);
      expect(clientId).toBe(offered);
      const headers = client.headers as Record<string, string>;
      expect(headers['x-sse-client-id']).toBe(encodeURIComponent(offered));
      const res = await reply({
        'x-sse-name': headers['x-sse-name'],
        'x-sse-client-id': headers['x-sse-client-id'],
        'x-sse-group': headers['x-sse-group'],
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ name: 'events', clientId: offered, group, scope: 'global' });
      expect(JSON.parse((await client.next('reply')).data)).toEqual({ to: offered });
    }
  });

  it('answers 400 without the headers', async () => {
    const { clientId } = await t.connect('/events');
    const partial: Record<string, string>[] = [{}, { 'x-sse-name': 'events' }, { 'x-sse-client-id': clientId }];
    for (const headers of partial) {
      const res = await reply(headers);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/needs the X-Sse-Name and X-Sse-Client-Id headers/);
    }
  });

  it('answers 400 for a malformed name, group or client id', async () => {
    const long = 'x'.repeat(257);
    expect((await reply({ 'x-sse-name': long, 'x-sse-client-id': 'a' })).status).toBe(400);
    expect((await reply({ 'x-sse-name': 'events', 'x-sse-client-id': long })).status).toBe(400);
    expect((await reply({ 'x-sse-name': 'events', 'x-sse-client-id': 'a', 'x-sse-group': long })).status).toBe(400);
  });

  it('answers 404 for an unknown client id or name, and for a connection that has gone', async () => {
    const { client, clientId } = await t.connect('/events');
    expect((await reply({ 'x-sse-name': 'events', 'x-sse-client-id': 'nobody' })).status).toBe(404);
    expect((await reply({ 'x-sse-name': 'other', 'x-sse-client-id': clientId })).status).toBe(404);
    const gone = nextLifecycle(t.hub, 'disconnect', { clientId });
    client.close();
    await gone;
    expect((await reply({ 'x-sse-name': 'events', 'x-sse-client-id': clientId })).status).toBe(404);
  });

  it('a local connection cannot be referenced (it is not registered)', async () => {
    const { clientId } = await t.connect('/local');
    expect((await reply({ 'x-sse-name': 'local', 'x-sse-client-id': clientId })).status).toBe(404);
  });
});
