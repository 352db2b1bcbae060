/**
 * Scenario 2: a reconnect storm. Three instances hold the clients while the
 * publisher sends at a steady rate; one instance is killed (SIGKILL, no
 * goodbye). Its clients reconnect to the other two with `Last-Event-ID`, as
 * browsers do. Measured: time from the kill until every one of them has
 * caught up (replay, then a live event), and events lost or duplicated.
 */
import { nowMicros } from '../payload.js';
import { startRedis } from './scale-redis.js';
import { ScaleFleet, type ClientsResult, type PublisherResult } from './scale-fleet.js';
import type { SendPlan } from './scale-plan.js';

/** Sizes of the scenario. */
export interface StormSizes {
  instances: number;
  clients: number;
  names: number;
  /** The publisher's steady rate (sends per second) and how long it sends. */
  rate: number;
  seconds: number;
  /** When, after the publisher started, one instance is killed. */
  killAfterMs: number;
}

/** Sizes of a full run. */
export const STORM_SIZES: StormSizes = { instances: 3, clients: 1_500, names: 15, rate: 1_000, seconds: 8, killAfterMs: 3_000 };
/** A try-out (`--quick`). */
export const STORM_QUICK: StormSizes = { ...STORM_SIZES, clients: 600, seconds: 4, killAfterMs: 1_500 };

/** What one run measured. */
export interface StormResult {
  redis: string;
  sizes: StormSizes;
  /** Clients the killed instance held. */
  affected: number;
  publisher: PublisherResult;
  clients: ClientsResult;
  note: string;
}

/** Runs the scenario on a Redis of its own and tears everything down (the killed instance included). */
export async function runStorm(masters: number, sizes: StormSizes, runId: string): Promise<StormResult> {
  const redis = await startRedis(masters);
  const names = Array.from({ length: sizes.names }, (_, i) => `s${i}`);
  const instanceOf = (client: number) => Math.floor(client / sizes.names) % sizes.instances;
  let fleet: ScaleFleet | undefined;
  try {
    fleet = await ScaleFleet.start({ redis: redis.connection, keyPrefix: `sse-bench:${runId}:`, names }, sizes.instances);
    const ports = fleet.ports;
    await fleet.connect(
      // Every name has clients on every instance.
      Array.from({ length: sizes.clients }, (_, i) => {
        const name = names[i % names.length];
        return { port: ports[instanceOf(i)], path: `/sse/${name}?id=c${i}`, key: name };
      }),
    );
    const victim = sizes.instances - 1;
    const affected = Array.from({ length: sizes.clients }, (_, i) => instanceOf(i)).filter((index) => index === victim).length;
    const plan: SendPlan = { kind: 'names', names, users: 0, total: sizes.rate * sizes.seconds, window: 1_000, rate: sizes.rate };
    await fleet.expect(plan);
    const publishing = fleet.publish(plan);
    await new Promise((resolve) => setTimeout(resolve, sizes.killAfterMs));
    const killedAt = nowMicros();
    await fleet.kill(victim);
    const publisher = await publishing;
    const clients = await fleet.received(10_000, killedAt);
    const notes = [];
    if (!clients.complete) notes.push('clients stalled before receiving everything');
    if (clients.recovered < affected) notes.push(`${clients.recovered}/${affected} clients caught up`);
    if (publisher.errors) notes.push(`${publisher.errors} send errors (${publisher.errorSample})`);
    return { redis: redis.label, sizes, affected, publisher, clients, note: notes.join('; ') };
  } finally {
    await fleet?.stop();
    await redis.stop();
  }
}
