import { Controller, Get } from '@nestjs/common';
import fc from 'fast-check';
import { SseConnection, SseHub, SseModule, type SseRequest, type SseTarget } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { express, startApp, type TestApp } from '../support/app.js';
import { describeRedis, uniquePrefix, useRedisServer } from '../support/redis.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { SseClientPool, type SseClient } from '../support/sse-client.js';
import { settle } from '../support/wait.js';
import { addressed } from '../support/topic-model.js';

const query = (req: SseRequest, key: string) => (typeof req.query[key] === 'string' ? (req.query[key] as string) : undefined);

@Controller()
class ScaleController {
  @Get('events')
  @SseConnection<SseRequest>({
    name: 'events',
    user: (req) => query(req, 'user'),
    group: (req) => query(req, 'groups')?.split(',').filter(Boolean) ?? [],
  })
  events() {}
}

type Connection = { name: string; groups: string[]; clientId: string; user: string | undefined };

/** The Redis deployments these properties must hold on: one server, and a 3-master Cluster. */
const deployments: Array<{ name: string; use(): () => { url?: string; cluster?: Array<{ host: string; port: number }> } }> = [
  {
    name: 'one Redis',
    use() {
      const server = useRedisServer();
      return () => ({ url: server.url });
    },
  },
  {
    name: 'a Redis Cluster',
    use() {
      const servers = useRedisCluster(3);
      return () => ({ cluster: servers.cluster.seeds });
    },
  },
];

for (const deployment of deployments) {
  describeRedis(`Redis transport at scale (${deployment.name})`, () => {
    const where = deployment.use();
    const pool = new SseClientPool();
    const started: TestApp[] = [];
    const start = async (options: { batching?: boolean; keyPrefix: string }) => {
      const transport = new RedisTransport({ ...where(), ...options });
      const app = await startApp(express, { imports: [SseModule.forRoot({ transport })], controllers: [ScaleController] });
      started.push(app);
      return { app, hub: app.app.get(SseHub), transport };
    };
    afterEach(async () => {
      await pool.closeAll();
      for (const app of started.splice(0)) await app.close();
    });

    it('an instance with no connection of a topic reads none of its sends', async () => {
      const keyPrefix = uniquePrefix('reads');
      const [a, b] = [await start({ keyPrefix }), await start({ keyPrefix })];
      const onA = await pool.connect(`${a.app.url}/events?groups=g1&user=u1`);
      const onB = await pool.connect(`${b.app.url}/events?groups=g2`);
      await settle(() => b.hub.count({ name: 'events' }), 2);
      const before = { a: a.transport.reads().messages, b: b.transport.reads().messages };
      for (let i = 0; i < 50; i++) {
        await b.hub.send({ name: 'events', group: 'g1' }, { event: 'room', data: i });
        await b.hub.send({ name: 'events', user: 'u1' }, { event: 'private', data: i });
      }
      await b.hub.send({ name: 'events', clientId: onA.clientId }, { event: 'end', data: '' });
      await onA.client.next('end');
      expect(onA.client.eventsOf('room')).toHaveLength(50);
      expect(onA.client.eventsOf('private')).toHaveLength(50);
      // B serves neither g1 nor u1 nor A's client id: it read none of those 101 sends.
      expect(b.transport.reads().messages - before.b).toBe(0);
      expect(a.transport.reads().messages - before.a).toBe(101);
      // A broadcast to the name reaches both, each once.
      await a.hub.send({ name: 'events' }, { event: 'all', data: 'x' });
      await Promise.all([onA.client.next('all'), onB.client.next('all')]);
      expect(b.transport.reads().messages - before.b).toBe(1);
    });

    it('batched and unbatched sends deliver the same events in the same order (property)', async () => {
      const readers: Array<Omit<Connection, 'clientId' | 'name'> & { path: string }> = [
        { groups: ['g1'], user: 'u1', path: 'groups=g1&user=u1' },
        { groups: ['g1', 'g2'], user: undefined, path: 'groups=g1,g2' },
        { groups: [], user: 'u2', path: 'user=u2' },
      ];
      const someOf = <T>(values: T[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: values.length });
      const target = fc.record({ group: someOf(['g1', 'g2', 'g3']), user: someOf(['u1', 'u2']) }, { requiredKeys: [] });
      const sends = fc.array(fc.tuple(target, fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 30 });
      // One cluster of two instances per mode; the same readers on both.
      const clusters = await Promise.all(
        [true, false].map(async (batching) => {
          const keyPrefix = uniquePrefix(batching ? 'batched' : 'unbatched');
          const [sender, receiver] = [await start({ batching, keyPrefix }), await start({ batching, keyPrefix })];
          const clients: Array<{ client: SseClient; connection: Connection }> = [];
          for (const reader of readers) {
            const { client, clientId } = await pool.connect(`${receiver.app.url}/events?${reader.path}`);
            clients.push({ client, connection: { name: 'events', clientId, groups: reader.groups, user: reader.user } });
          }
          await settle(() => sender.hub.count({ name: 'events' }), readers.length);
          return { sender, clients };
        }),
      );
      let round = 0;
      await fc.assert(
        fc.asyncProperty(sends, async (sequence) => {
          round++;
          const received: string[][][] = [];
          for (const { sender, clients } of clusters) {
            for (const { client } of clients) client.events.length = 0;
            // Issued in one turn, not awaited one by one: the batched transport sends them in one call.
            const issued = sequence.map(([t, count], i) =>
              sender.hub.send({ name: 'events', ...t } as SseTarget, Array.from({ length: count }, (_, k) => ({ event: 'e', data: `${round}.${i}.${k}` }))),
            );
            await Promise.all(issued);
            await Promise.all(clients.map(({ client, connection }) => sender.hub.send({ name: 'events', clientId: connection.clientId }, { event: 'end', data: String(round) })));
            await Promise.all(clients.map(({ client }) => client.waitFor(() => client.events.some((e) => e.event === 'end' && e.data === String(round)), 'the end marker')));
            received.push(clients.map(({ client }) => client.eventsOf('e').map((e) => e.data)));
          }
          // Both modes: what each reader got is exactly what was addressed to it, in issue order.
          const expected = clusters[0].clients.map(({ connection }) =>
            sequence.flatMap(([t, count], i) =>
              addressed({ id: '', target: { names: ['events'], groups: t.group, users: t.user } }, connection)
                ? Array.from({ length: count }, (_, k) => `${round}.${i}.${k}`)
                : [],
            ),
          );
          expect(received[0]).toEqual(expected);
          expect(received[1]).toEqual(expected);
        }),
        { numRuns: 15 },
      );
    });
  });
}
