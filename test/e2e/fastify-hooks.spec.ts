import { Controller, Get, Req } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import type { INestApplication } from '@nestjs/common';
import { SseConnection, SseModule } from '../../lib/index.js';
import { fastify, useApp, type Platform } from '../support/app.js';

// What only Fastify has: its request hooks, and reply.send() hooks a stream never reaches.

@Controller()
class HookedController {
  @Get('events')
  @SseConnection({ name: 'events', group: (req: FastifyRequest<{ Querystring: { room?: string } }>) => req.query.room })
  open() {}

  @Get('plain')
  plain(@Req() req: FastifyRequest) {
    return { route: req.routeOptions.url };
  }
}

const addHooks = (app: INestApplication): void => {
  const instance = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  instance.addHook('onRequest', async (_request, reply) => {
    reply.header('x-on-request', 'on-request');
  });
  instance.addHook('preHandler', async (_request, reply) => {
    reply.header('x-pre-handler', 'pre-handler');
  });
  // onSend runs inside reply.send(), which a stream never calls.
  instance.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-on-send', 'on-send');
    return payload;
  });
};

describe('Fastify hooks', () => {
  const t = useApp(fastify, () => ({ imports: [SseModule.forRoot()], controllers: [HookedController] }), { setup: addHooks });

  it('puts headers set by onRequest and preHandler hooks on the stream', async () => {
    const { client, group } = await t.connect('/events?room=r1');
    expect(group).toBe('r1');
    expect(client.headers['x-on-request']).toBe('on-request');
    expect(client.headers['x-pre-handler']).toBe('pre-handler');
  });

  it('does not run onSend hooks for a stream (they run on ordinary routes)', async () => {
    const plain = await t.request('/plain');
    expect(plain.body).toEqual({ route: '/plain' });
    expect(plain.headers.get('x-on-send')).toBe('on-send');

    const { client } = await t.connect('/events');
    expect(client.headers['x-on-send']).toBeUndefined();
  });
});

describe('Fastify handlerTimeout', () => {
  // The timeout fires while the stream is open; the ping count below proves it had time to.
  const handlerTimeout = 30;
  const platform: Platform = { name: 'fastify', createAdapter: () => new FastifyAdapter({ handlerTimeout }) };
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot({ keepAlive: 10 })], controllers: [HookedController] }));

  it('does not cut an open stream', async () => {
    const { client } = await t.connect('/events');
    // Pings are at least keepAlive / 2 ms apart, so 12 of them span more than the timeout.
    await client.waitFor(() => client.ended || client.comments.length >= 12, '12 pings or the end');
    expect(client.ended).toBe(false);
    expect(client.comments.every((comment) => comment.trim() === 'ping')).toBe(true);
  });

  it('still answers an ordinary route', async () => {
    expect((await t.request('/plain')).status).toBe(200);
  });
});
