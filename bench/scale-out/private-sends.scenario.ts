/**
 * Scenario 3: private sends. Three instances, one user per client spread
 * over them, each send to one user. An instance subscribes to the topics of
 * its own connections only, so each should read about its share of the
 * sends from Redis, not all of them (`RedisTransport.reads()`).
 */
import { startRedis } from './scale-redis.js';
import { ScaleFleet, type ClientsResult, type InstanceUsage, type PublisherResult } from './scale-fleet.js';
import type { SendPlan } from './scale-plan.js';

/** Sizes of the scenario (`quick`: fewer sends). */
export interface PrivateSizes {
  instances: number;
  users: number;
  sends: number;
  window: number;
}

/** The sizes of issue 16: 3 instances, 3,000 users, 30,000 sends each to one user. */
export const PRIVATE_SIZES: PrivateSizes = { instances: 3, users: 3_000, sends: 30_000, window: 2_000 };
/** A try-out (`--quick`). */
export const PRIVATE_QUICK: PrivateSizes = { ...PRIVATE_SIZES, sends: 9_000 };

/** What one run measured. */
export interface PrivateResult {
  redis: string;
  sizes: PrivateSizes;
  publisher: PublisherResult;
  clients: ClientsResult;
  /** What each instance read from Redis during the sends, and its CPU. */
  instances: InstanceUsage[];
  note: string;
}

/** Runs the scenario on a Redis of its own (`masters` 1: one server) and tears everything down. */
export async function runPrivateSends(masters: number, sizes: PrivateSizes, runId: string): Promise<PrivateResult> {
  const redis = await startRedis(masters);
  const name = 'private';
  let fleet: ScaleFleet | undefined;
  try {
    fleet = await ScaleFleet.start({ redis: redis.connection, keyPrefix: `sse-bench:${runId}:`, names: [name] }, sizes.instances);
    const ports = fleet.ports;
    await fleet.connect(
      Array.from({ length: sizes.users }, (_, i) => ({ port: ports[i % ports.length], path: `/sse/${name}?id=u${i}&user=u${i}`, key: `u${i}` })),
    );
    const plan: SendPlan = { kind: 'users', names: [name], users: sizes.users, total: sizes.sends, window: sizes.window, rate: 0 };
    await fleet.expect(plan);
    await fleet.mark();
    const publisher = await fleet.publish(plan);
    const clients = await fleet.received(10_000);
    const instances = await fleet.usage();
    const notes = [];
    if (!clients.complete) notes.push('clients stalled before receiving everything');
    if (clients.replaced) notes.push(`${clients.replaced} clients closed with reason replaced`);
    if (publisher.errors) notes.push(`${publisher.errors} send errors (${publisher.errorSample})`);
    return { redis: redis.label, sizes, publisher, clients, instances, note: notes.join('; ') };
  } finally {
    await fleet?.stop();
    await redis.stop();
  }
}
