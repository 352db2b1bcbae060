import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpException } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { SseModule, type SseModuleOptions } from '../../lib/index.js';
import { SseConnectionFactory } from '../../lib/http/sse-connection.factory.js';
import { SseConnectionLimits } from '../../lib/connection/sse-connection.limits.js';
import { SseStopTokens } from '../../lib/connection/sse-stop-tokens.js';
import type { SseClientConnection } from '../../lib/connection/sse-client-connection.js';
import type { SseConnectionOptions } from '../../lib/interfaces/sse-connection-options.interface.js';
import { rawHttp } from '../support/raw-http.js';
import { SseClient } from '../support/sse-client.js';
import { until } from '../support/wait.js';

/** What the factory made of one request: a pending connection, nothing (it answered itself), or an error. */
type Outcome = { connection: SseClientConnection } | { answered: true } | { error: unknown };

/**
 * The factory on its own, behind a plain node:http server (no Nest HTTP
 * adapter, no interceptor): each request goes to `create` with the route
 * options of the test; an HttpException is answered as Nest's filter would,
 * a connection is opened as the interceptor would.
 */
class FactoryHarness {
  readonly outcomes: Outcome[] = [];
  route: SseConnectionOptions = { name: 'feed' };
  private server!: http.Server;
  private moduleRef!: TestingModule;
  url = '';

  async start(options: SseModuleOptions = {}): Promise<void> {
    this.moduleRef = await Test.createTestingModule({ imports: [SseModule.forRoot(options)] }).compile();
    await this.moduleRef.init();
    const factory = this.moduleRef.get(SseConnectionFactory, { strict: false });
    this.server = http.createServer((request, response) => {
      factory.create(request, response, this.route).then(
        (connection) => {
          this.outcomes.push(connection ? { connection } : { answered: true });
          connection?.open();
        },
        (error: unknown) => {
          this.outcomes.push({ error });
          const status = error instanceof HttpException ? error.getStatus() : 500;
          response.writeHead(status, { 'content-type': 'text/plain' }).end((error as Error).message);
        },
      );
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  get limits(): SseConnectionLimits {
    return this.moduleRef.get(SseConnectionLimits, { strict: false });
  }

  get stops(): SseStopTokens {
    return this.moduleRef.get(SseStopTokens, { strict: false });
  }

  get last(): Outcome {
    return this.outcomes[this.outcomes.length - 1];
  }

  connection(): SseClientConnection {
    const outcome = this.last;
    if (!('connection' in outcome)) throw new Error(`expected a connection, got ${JSON.stringify(outcome)}`);
    return outcome.connection;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    await this.moduleRef.close();
  }
}

const stream = { accept: 'text/event-stream' };

describe('SseConnectionFactory', () => {
  let harness: FactoryHarness;
  const clients: SseClient[] = [];
  const start = async (options: SseModuleOptions = {}, route: SseConnectionOptions = { name: 'feed' }) => {
    harness = new FactoryHarness();
    harness.route = route;
    await harness.start(options);
  };
  const open = async (headers: Record<string, string> = {}, path = '') => {
    const client = await SseClient.open(harness.url + path, { headers });
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await harness?.stop();
  });

  it('makes a pending connection of a good request, with its identity, and counts it until it closes', async () => {
    await start({}, { name: 'chat', group: ['room1', 'room2', 'room1'], user: () => 'ann' });
    const client = await open({ 'last-event-id': '7' });
    const connection = harness.connection();
    expect(connection.info()).toMatchObject({ name: 'chat', groups: ['room1', 'room2'], user: 'ann', scope: 'global', lastEventId: '7' });
    expect(await client.opened()).toMatchObject({ name: 'chat', clientId: connection.clientId, groups: ['room1', 'room2'], user: 'ann' });
    expect(harness.limits.size).toBe(1);
    client.close();
    await until(() => harness.limits.size === 0, 'the slot given back');
    expect(connection.isClosed).toBe(true);
  });

  it('uses a client id the client offers (header or query), and issues one otherwise', async () => {
    await start();
    await open({ 'x-sse-client-id': 'offered-1' });
    expect(harness.connection().clientId).toBe('offered-1');
    await open({}, '?clientId=offered-2');
    expect(harness.connection().clientId).toBe('offered-2');
    await open();
    expect(harness.connection().clientId).toMatch(/^[\w-]{8,}$/);
  });

  it('with signing, refuses an unsigned or forged client id (400) and accepts the one it issued', async () => {
    await start({ signing: { secret: 'x'.repeat(32) } });
    const first = await open();
    const issued = (await first.opened()).clientId;
    expect((await rawHttp(harness.url, { headers: { ...stream, 'x-sse-client-id': 'plain' } })).status).toBe(400);
    const forged = issued.slice(0, -1) + (issued.endsWith('A') ? 'B' : 'A');
    expect((await rawHttp(harness.url, { headers: { ...stream, 'x-sse-client-id': forged } })).status).toBe(400);
    first.close();
    await open({ 'x-sse-client-id': issued });
    expect(harness.connection().clientId).toBe(issued);
  });

  it.each([
    ['an Accept without text/event-stream', { accept: 'application/json' }, undefined, 406],
    ['a GET with a body', stream, 'x', 400],
    ['a Last-Event-ID over the limit', { ...stream, 'last-event-id': 'x'.repeat(5000) }, undefined, 400],
    ['a client id that is no identifier', { ...stream, 'x-sse-client-id': 'x'.repeat(300) }, undefined, 400],
  ])('refuses %s before any byte of the stream, and counts nothing', async (_what, headers, body, status) => {
    await start();
    const answer = await rawHttp(harness.url, { headers, body });
    expect(answer).toMatchObject({ status, stream: false });
    expect(harness.last).toEqual({ error: expect.any(HttpException) });
    expect(harness.limits.size).toBe(0);
  });

  it('an empty Last-Event-ID is no id', async () => {
    await start();
    await open({ 'last-event-id': '' });
    expect(harness.connection().lastEventId).toBeUndefined();
  });

  it('refuses a derived user or group that is no identifier with 400', async () => {
    await start({}, { name: 'feed', user: () => 'ann\u0001' });
    expect((await rawHttp(harness.url, { headers: stream })).status).toBe(400);
    await harness.stop();
    await start({}, { name: 'feed', group: async () => ['ok', 'g'.repeat(300)] });
    expect((await rawHttp(harness.url, { headers: stream })).status).toBe(400);
    expect(harness.limits.size).toBe(0);
  });

  it('a full instance with overload "retry": a short stream that says come back later (spread retry, sse.close), never counted', async () => {
    await start({ maxConnections: 1, retry: 2000, reconnectSpread: 1000 });
    await open();
    const refused = await open();
    await refused.end();
    expect(harness.last).toEqual({ answered: true });
    expect(refused.retry).toBeGreaterThanOrEqual(2000);
    expect(refused.retry).toBeLessThanOrEqual(3000);
    expect(refused.eventsOf('sse.close').map((event) => JSON.parse(event.data).reason)).toEqual(['overloaded']);
    expect(harness.limits.size).toBe(1);
  });

  it('a full name with overload "reject": 503 with Retry-After from the route retry', async () => {
    await start({ maxConnectionsPerName: 1, overload: 'reject' }, { name: 'feed', retry: 4500 });
    await open();
    const answer = await rawHttp(harness.url, { headers: stream });
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
  });

  it('a user at maxConnectionsPerUser: 429 (a limit that does not clear by itself), whatever overload says', async () => {
    await start({ maxConnectionsPerUser: 1 }, { name: 'feed', user: () => 'ann' });
    await open();
    expect((await rawHttp(harness.url, { headers: stream })).status).toBe(429);
  });

  it('HEAD gets the stream head without a connection', async () => {
    await start();
    const answer = await rawHttp(harness.url, { method: 'HEAD', headers: stream });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(harness.last).toEqual({ answered: true });
    expect(harness.limits.size).toBe(0);
  });

  it('a client stopped for good gets 204 (by stop token or by client id), before any other check', async () => {
    await start();
    const token = harness.stops.issue('feed');
    await harness.stops.stopClient('feed', 'gone-1');
    expect((await rawHttp(harness.url, { headers: { accept: 'application/json', 'last-event-id': token } })).status).toBe(204);
    expect((await rawHttp(harness.url, { headers: { ...stream, 'x-sse-client-id': 'gone-1' } })).status).toBe(204);
    expect((await rawHttp(harness.url, { headers: { ...stream, 'x-sse-client-id': 'other' } })).stream).toBe(true);
  });
});
