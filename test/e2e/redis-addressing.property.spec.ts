import fc from 'fast-check';
import { RedisTransport } from '../../lib/redis.js';
import { isAddressedTo } from '../../lib/addressing/sse-target.js';
import type { SseLocalConnections, SseTransportConnection, SseTransportTarget } from '../../lib/index.js';
import { describeRedis, uniquePrefix, useRedis, type RedisServer } from '../support/redis.js';

/** This instance as the transport sees it: no connections of its own to deliver to here. */
const noLocalConnections: SseLocalConnections = {
  historyLimits: { size: 0, ttl: 1 },
  deliver: () => 0,
  close: () => 0,
  join: async () => 0,
  leave: async () => 0,
  clientIds: () => [],
  names: () => [],
  groups: () => [],
  count: () => 0,
  connections: () => [],
};

const someOf = <T>(values: T[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 0, maxLength: values.length });

/**
 * The Redis scripts carry a copy of the addressing rule (in Lua, over presence
 * sets): for random populations and targets, it must answer what the one rule
 * in TypeScript (`isAddressedTo`) answers.
 */
describeRedis('Redis presence queries follow the addressing rule (property)', () => {
  let redis: { url: string; server: RedisServer | undefined };
  beforeAll(async () => {
    redis = await useRedis();
  });
  afterAll(async () => {
    await redis?.server?.stop();
  });

  it('count() and clientIds() agree with isAddressedTo for any target', async () => {
    const connection = fc.record({
      name: fc.constantFrom('n', 'm'),
      groups: someOf(['g1', 'g2', 'g3']),
      user: fc.option(fc.constantFrom('u1', 'u2'), { nil: undefined }),
    });
    const target = fc.record(
      { names: someOf(['n', 'm']).filter((names) => names.length > 0), groups: someOf(['g1', 'g2', 'g3']), clientIds: someOf(['c0', 'c1', 'c2', 'c3', 'c4']), users: someOf(['u1', 'u2']) },
      { requiredKeys: ['names'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(connection, { minLength: 1, maxLength: 5 }), fc.array(target, { minLength: 1, maxLength: 10 }), async (specs, targets) => {
        const transport = new RedisTransport({ url: redis.url, keyPrefix: uniquePrefix('addressing') });
        await transport.connect(noLocalConnections);
        try {
          const population: SseTransportConnection[] = specs.map((spec, i) => ({
            ...spec,
            clientId: `c${i}`,
            connectedAt: new Date(),
            lastEventId: undefined,
            end: () => undefined,
          }));
          for (const c of population) transport.register(c);
          // Claims are announced in the background: wait until all are there.
          const deadline = Date.now() + 5000;
          while ((await transport.count()) < population.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
          for (const t of targets as SseTransportTarget[]) {
            const expected = population.filter((c) => isAddressedTo(t, c)).map((c) => c.clientId);
            expect({ target: t, count: await transport.count(t) }).toEqual({ target: t, count: expected.length });
            expect((await transport.clientIds(t)).sort()).toEqual(expected.sort());
          }
        } finally {
          await transport.disconnect();
        }
      }),
      { numRuns: 40 },
    );
  });
});
