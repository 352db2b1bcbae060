import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { SseConnection, SseHub, SseInvalidArgumentError, SseModule } from '../../lib/index.js';
import { SseHealthIndicator } from '../../lib/health.js';
import { RedisTransport } from '../../lib/redis.js';
import { SseTestClient } from '../../lib/testing.js';
import { platforms, request, startApp, type TestApp } from '../support/app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { canRestartRedis, describeRedis, redisRequired, RedisServer, uniquePrefix } from '../support/redis.js';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly sse: SseHealthIndicator,
  ) {}

  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.sse.isReady()]);
  }

  @Get('health/capacity')
  @HealthCheck()
  capacity() {
    return this.health.check([() => this.sse.isReady('sse', { maxConnections: 1 })]);
  }

  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}
}

/** The README's health module: Terminus, the indicator, the controller. */
@Module({ imports: [TerminusModule], controllers: [HealthController], providers: [SseHealthIndicator] })
class HealthModule {}

const appWith = (sse: DynamicModule) => ({ imports: [sse, HealthModule] });

/** Asks GET /health/ready until `wanted` answers (Redis changes are seen within the ping's bounded wait). */
async function readyStatus(url: string, wanted: number): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await request(`${url}/health/ready`);
    if (answer.status === wanted || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(platforms)('SseHealthIndicator ($name)', (platform) => {
  const clients: SseTestClient[] = [];
  let t: TestApp | undefined;
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await t?.close();
    t = undefined;
  });

  it('is up with the in-memory transport, and down once the instance holds more than maxConnections', async () => {
    t = await startApp(platform, appWith(SseModule.forRoot()), { logger: new RecordingLogger() });
    expect(await request(`${t.url}/health/ready`)).toMatchObject({
      status: 200,
      body: { status: 'ok', info: { sse: { status: 'up', transport: 'reachable', connections: 0 } } },
    });
    for (let i = 0; i < 2; i++) {
      const client = await SseTestClient.connect(t.app, '/events');
      clients.push(client);
      await client.opened();
    }
    const full = await request(`${t.url}/health/capacity`);
    expect(full.status).toBe(503);
    expect(full.body.error.sse).toEqual({
      status: 'down',
      transport: 'reachable',
      connections: 2,
      message: 'nestjs-sse-hub: 2 open connections exceed maxConnections (1).',
    });
  });

  it('refuses bad options with SseInvalidArgumentError', async () => {
    t = await startApp(platform, appWith(SseModule.forRoot()), { logger: new RecordingLogger() });
    const indicator = t.app.get(SseHealthIndicator, { strict: false });
    await expect(indicator.isReady('sse', { maxConnections: 0 })).rejects.toThrow(SseInvalidArgumentError);
    await expect(indicator.isReady('sse', { timeout: -1 })).rejects.toThrow(SseInvalidArgumentError);
  });
});

describeRedis('SseHealthIndicator with Redis: readiness follows Redis', () => {
  if (!canRestartRedis) {
    const why = 'no redis-server binary to kill and restart';
    if (redisRequired) {
      it('needs a redis-server binary (SSE_HUB_REQUIRE_REDIS=1)', () => {
        throw new Error(`Redis health tests cannot run: ${why}`);
      });
    } else {
      it.skip(why, () => undefined);
      console.warn(`SKIPPED Redis health tests: ${why}.`);
    }
    return;
  }
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(() => server.stop());

  describe.each(platforms)('$name', (platform) => {
    let t: TestApp;
    let client: SseTestClient;
    afterEach(async () => {
      await client?.close();
      await t?.close();
    });

    it('turns GET /health/ready down while Redis is unreachable, and up again after; the stream stays open throughout', async () => {
      const transport = new RedisTransport({ url: server.url, keyPrefix: uniquePrefix(`health-${platform.name}`), commandTimeout: 500 });
      t = await startApp(platform, appWith(SseModule.forRoot({ transport })), { logger: new RecordingLogger() });
      client = await SseTestClient.connect(t.app, '/events');
      await client.opened();

      const up = await readyStatus(t.url, 200);
      expect(up.body.info.sse).toEqual({ status: 'up', transport: 'reachable', connections: 1 });

      await server.stop();
      const down = await readyStatus(t.url, 503);
      expect(down.status).toBe(503);
      expect(down.body.status).toBe('error');
      expect(down.body.error.sse).toMatchObject({ status: 'down', transport: 'unreachable', connections: 1 });
      expect(down.body.error.sse.message).toMatch(/^nestjs-sse-hub: /);

      await server.restart();
      const back = await readyStatus(t.url, 200);
      expect(back.status).toBe(200);
      expect(back.body.info.sse).toEqual({ status: 'up', transport: 'reachable', connections: 1 });
      // Readiness, not liveness: the client never lost its stream, and events reach it again.
      expect(client.isEnded).toBe(false);
      await t.app.get(SseHub).send({ name: 'events' }, { event: 'after', data: 'back' });
      expect((await client.next('after')).data).toBe('back');
    }, 30_000);
  });
});
