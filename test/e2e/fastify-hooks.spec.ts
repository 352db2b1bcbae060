import { Controller, Get, Req } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import type { INestApplication } from '@nestjs/common';
import { SseConnection, SseModule } from '../../lib/index.js';
import { fastify, request, startApp, type Platform, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';

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
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(fastify, { imports: [SseModule.forRoot()], controllers: [HookedController] }, { setup: addHooks });
  });
  afterAll(() => t.close());

  it('puts headers set by onRequest and preHandler hooks on the stream', async () => {
    const client = await SseClient.open(`${t.url}/events?room=r1`);
    expect((await client.opened()).group).toBe('r1');
    expect(client.headers['x-on-request']).toBe('on-request');
    expect(client.headers['x-pre-handler']).toBe('pre-handler');
    client.close();
  });

  it('does not run onSend hooks for a stream (they run on ordinary routes)', async () => {
    const plain = await request(`${t.url}/plain`);
    expect(plain.body).toEqual({ route: '/plain' });
    expect(plain.headers.get('x-on-send')).toBe('on-send');

    const client = await SseClient.open(`${t.url}/events`);
    await client.opened();
    expect(client.headers['x-on-send']).toBeUndefined();
    client.close();
  });
});

describe('Fastify handlerTimeout', () => {
  // The timeout fires while the stream is open; the ping count below proves it had time to.
  const handlerTimeout = 30;
  const platform: Platform = { name: 'fastify', createAdapter: () => new FastifyAdapter({ handlerTimeout }) };
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(platform, {
      imports: [SseModule.forRoot({ keepAlive: 10 })],
      controllers: [HookedController],
    });
  });
  afterAll(() => t.close());

  it('does not cut an open stream', async () => {
    const client = await SseClient.open(`${t.url}/events`);
    await client.opened();
    // Pings are at least keepAlive / 2 ms apart, so 12 of them span more than the timeout.
    await client.waitFor(() => client.ended || client.comments.length >= 12, '12 pings or the end');
    expect(client.ended).toBe(false);
    expect(client.comments.every((comment) => comment.trim() === 'ping')).toBe(true);
    client.close();
  });

  it('still answers an ordinary route', async () => {
    expect((await request(`${t.url}/plain`)).status).toBe(200);
  });
});
