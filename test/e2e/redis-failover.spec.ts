import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { express, startApp, type TestApp } from '../support/app.js';
import { describeRedis, uniquePrefix } from '../support/redis.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { SseClientPool } from '../support/sse-client.js';
import { settle, until } from '../support/wait.js';

@Controller()
class EventsController {
  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}
}

/**
 * A master of a Redis Cluster dies mid-stream; its replica takes over. With
 * `durability: 'replicated'` every send that resolved was on a replica, so
 * none is lost; none is delivered twice; the hub recovers by itself, and ids
 * after the failover carry a new epoch.
 */
describeRedis('Redis transport: failover on a Redis Cluster', () => {
  const servers = useRedisCluster(3, 1);
  const pool = new SseClientPool();
  const apps: TestApp[] = [];
  afterAll(async () => {
    await pool.closeAll();
    for (const app of apps) await app.close();
  });

  it("no acknowledged send is lost or doubled when the name's master is killed", async () => {
    const keyPrefix = uniquePrefix('failover');
    for (let i = 0; i < 2; i++) {
      const transport = new RedisTransport({ cluster: servers.cluster.seeds, keyPrefix, durability: 'replicated', commandTimeout: 1000 });
      apps.push(await startApp(express, { imports: [SseModule.forRoot({ transport })], controllers: [EventsController] }));
    }
    const [sender, receiver] = apps.map((app) => app.app.get(SseHub));
    const { client } = await pool.connect(`${apps[1].url}/events`);
    await settle(() => sender.count({ name: 'events' }), 1);

    const acknowledged: string[] = [];
    let rejected = 0;
    const sendOne = async (label: string) => {
      try {
        await sender.send({ name: 'events' }, { data: label });
        acknowledged.push(label);
      } catch {
        rejected++;
      }
    };
    for (let i = 0; i < 50; i++) await sendOne(`before ${i}`);
    const idsBefore = client.events.filter((e) => e.event === undefined).map((e) => e.id!);

    // The master that holds the name's keys (its hash tag's slot) goes away without a word.
    const master = await servers.cluster.masterOf(`${keyPrefix}{events}:meta`);
    await master.stop();
    // Sends go on while the replica is promoted: refused (there is no replica left to confirm them)
    // until the old master is back as the new master's replica; none is lost once accepted.
    let restarted = false;
    for (let i = 0; acknowledged.filter((label) => label.startsWith('after')).length < 50; i++) {
      await sendOne(`after ${i}`);
      if (!restarted && i === 10) {
        await servers.cluster.untilHealthy();
        await master.restart();
        restarted = true;
      }
      if (i > 5_000) throw new Error(`the cluster did not recover: ${rejected} sends refused`);
    }
    // A last send, acknowledged, marks the end: order per name puts every earlier acknowledged send
    // before it. (Counting arrivals is not enough: a refused send may arrive too.)
    for (let i = 0; !acknowledged.some((label) => label.startsWith('end')); i++) await sendOne(`end ${i}`);
    const last = acknowledged.at(-1)!;
    await until(async () => client.dataOf().includes(last) || client.ended, 'the last send at the reader', 30_000);

    const received = client.dataOf();
    // Each once (a send refused for want of a replica was applied on the master and may arrive: once, in order).
    expect(new Set(received).size).toBe(received.length);
    expect(acknowledged.filter((label) => !received.includes(label))).toEqual([]);
    // In send order.
    const phase = { before: 0, after: 1e6, end: 2e6 };
    const order = (label: string) => phase[label.split(' ')[0] as keyof typeof phase] + Number(label.split(' ')[1] ?? 0);
    expect([...received].sort((a, b) => order(a) - order(b))).toEqual(received);
    // The new master started a new epoch: ids a client holds from before can be told apart.
    const epoch = (id: string) => id.split('.')[1];
    const after = client.events.filter((e) => e.event === undefined && e.data.startsWith('after')).map((e) => e.id!);
    expect(new Set(idsBefore.map(epoch)).size).toBe(1);
    expect(epoch(after.at(-1)!)).not.toBe(epoch(idsBefore[0]));
    expect(await receiver.count({ name: 'events' })).toBe(1);
    console.info(`failover: ${acknowledged.length} acknowledged, ${rejected} refused during the promotion, ${received.length} received`);
  }, 90_000);
});
