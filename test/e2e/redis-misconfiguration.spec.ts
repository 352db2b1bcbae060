import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseModule, SseTransportError } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { express, startApp } from '../support/app.js';
import { describeRedis, RedisServer, uniquePrefix } from '../support/redis.js';
import { RedisClusterServers } from '../support/redis-cluster.js';

@Controller()
class EventsController {
  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}
}

/** Starting an app with this transport: resolves with the app's close, or rejects with what failed the start. */
async function startWith(transport: RedisTransport): Promise<() => Promise<void>> {
  const t = await startApp(express, { imports: [SseModule.forRoot({ transport })], controllers: [EventsController] }, { logger: [] });
  return t.close;
}

/**
 * A Redis that is reachable but not what the options say fails the app's
 * start with a clear SseTransportError — never a start that then answers wrong.
 */
describeRedis('Redis transport: misconfiguration fails at start-up', () => {
  let plain: RedisServer;
  let locked: RedisServer;
  let cluster: RedisClusterServers;
  beforeAll(async () => {
    [plain, locked, cluster] = await Promise.all([RedisServer.start(), RedisServer.start(['--requirepass', 'right-password']), RedisClusterServers.start(3)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([plain?.stop(), locked?.stop(), cluster?.stop()]);
  });

  it('a Redis Cluster node given as a single url', async () => {
    const transport = new RedisTransport({ url: `redis://127.0.0.1:${cluster.nodes[0].port}`, keyPrefix: uniquePrefix('misconfig') });
    const started = startWith(transport);
    await expect(started).rejects.toBeInstanceOf(SseTransportError);
    await expect(started).rejects.toThrow(/is a Redis Cluster node: use new RedisTransport\(\{ cluster/);
  });

  it('a single Redis given as cluster nodes', async () => {
    const transport = new RedisTransport({ cluster: [{ host: '127.0.0.1', port: plain.port }], keyPrefix: uniquePrefix('misconfig') });
    await expect(startWith(transport)).rejects.toThrow(/not a cluster: use \{ url \}/);
  });

  it('wrong credentials, and none at all', async () => {
    for (const url of [`redis://:wrong-password@127.0.0.1:${locked.port}`, locked.url]) {
      const started = startWith(new RedisTransport({ url, keyPrefix: uniquePrefix('misconfig') }));
      await expect(started).rejects.toBeInstanceOf(SseTransportError);
      await expect(started).rejects.toThrow(/refused RedisTransport's credentials/);
    }
    // The right ones start.
    const close = await startWith(new RedisTransport({ url: `redis://:right-password@127.0.0.1:${locked.port}`, keyPrefix: uniquePrefix('misconfig') }));
    await close();
  });

  it('options that cannot work are refused when the transport is made', () => {
    expect(() => new RedisTransport({ url: plain.url, cluster: [{ host: '127.0.0.1', port: plain.port }] })).toThrow(/exactly one of the two/);
    expect(() => new RedisTransport({} as never)).toThrow(/exactly one of the two/);
    expect(() => new RedisTransport({ url: plain.url, keyPrefix: 'a{b}' })).toThrow(/keyPrefix/);
    expect(() => new RedisTransport({ url: plain.url, durability: 'sometimes' as never })).toThrow(/durability/);
    expect(() => new RedisTransport({ url: plain.url, streamLength: 5 } as never)).toThrow(/unknown module option "RedisTransport streamLength"/);
  });
});
