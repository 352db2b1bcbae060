/**
 * Scenario 1: a publisher-only worker's sends per second against two
 * instances holding the clients, with many sends in flight (batched by the
 * transport), end-to-end latency, and the CPU each process — Redis
 * included, from `INFO cpu` — spends per send. Run on one Redis and on a
 * Redis Cluster: names are spread over the cluster's shards.
 */
import { redisCpuMicros, startRedis } from './scale-redis.js';
import { ScaleFleet, type ClientsResult, type PublisherResult } from './scale-fleet.js';
import type { SendPlan } from './scale-plan.js';

/** Sizes of the scenario (`quick`: smaller, for a try-out). */
export interface ThroughputSizes {
  instances: number;
  clients: number;
  /** Names the clients and sends are spread over (one shard holds each name). */
  names: number;
  /** Sends of the measured burst (and of the unmeasured warm-up). */
  burst: number;
  /** Sends in flight at most. */
  window: number;
  /** The paced phase, for latency without a backlog: sends per second, and for how long. */
  pacedRate: number;
  pacedSeconds: number;
}

/** Sizes of a full run: the whole scale-out part stays within a few minutes on 2 cores. */
export const THROUGHPUT_SIZES: ThroughputSizes = { instances: 2, clients: 1_000, names: 30, burst: 30_000, window: 2_000, pacedRate: 2_000, pacedSeconds: 3 };
/** A try-out (`--quick`). */
export const THROUGHPUT_QUICK: ThroughputSizes = { ...THROUGHPUT_SIZES, burst: 6_000, pacedSeconds: 1 };

/** What one run on one Redis layout measured. */
export interface ThroughputResult {
  redis: string;
  masters: number;
  sizes: ThroughputSizes;
  burst: PublisherResult;
  burstClients: ClientsResult;
  paced: PublisherResult;
  pacedClients: ClientsResult;
  /** CPU µs per send during the burst, per kind of process (instances summed). */
  redisMicrosPerSend: number;
  instancesMicrosPerSend: number;
  publisherMicrosPerSend: number;
  clientsMicrosPerSend: number;
  /** Instances' RSS and heap per connection (after a full collection, before any send). */
  rssPerConnection: number;
  heapPerConnection: number;
  /** Deliveries (events written to clients) per send. */
  fanOut: number;
  note: string;
}

/** Runs the scenario on a Redis of its own (`masters` 1: one server, else a Cluster) and tears everything down. */
export async function runThroughput(masters: number, sizes: ThroughputSizes, runId: string): Promise<ThroughputResult> {
  const redis = await startRedis(masters);
  const names = Array.from({ length: sizes.names }, (_, i) => `t${i}`);
  let fleet: ScaleFleet | undefined;
  try {
    fleet = await ScaleFleet.start({ redis: redis.connection, keyPrefix: `sse-bench:${runId}:`, names }, sizes.instances);
    const ports = fleet.ports;
    const idle = await fleet.memory();
    await fleet.connect(
      // Every name has clients on every instance: each send is read by each of them.
      Array.from({ length: sizes.clients }, (_, i) => {
        const name = names[i % names.length];
        return { port: ports[Math.floor(i / names.length) % ports.length], path: `/sse/${name}?id=c${i}`, key: name };
      }),
    );
    const connected = await fleet.memory();
    const burstPlan: SendPlan = { kind: 'names', names, users: 0, total: sizes.burst, window: sizes.window, rate: 0 };
    // Warm-up: the same burst, unmeasured, so that every process is measured JIT-compiled.
    await fleet.expect(burstPlan);
    const warmSends = await fleet.publish(burstPlan);
    const warm = await fleet.received(10_000);

    await fleet.expect(burstPlan);
    await fleet.mark();
    const redisBefore = await redisCpuMicros(redis.masters);
    const burst = await fleet.publish(burstPlan);
    const burstClients = await fleet.received(10_000);
    const redisAfter = await redisCpuMicros(redis.masters);
    const usage = await fleet.usage();

    const pacedPlan: SendPlan = { ...burstPlan, rate: sizes.pacedRate, total: sizes.pacedRate * sizes.pacedSeconds };
    await fleet.expect(pacedPlan);
    const paced = await fleet.publish(pacedPlan);
    const pacedClients = await fleet.received(10_000);

    const sends = Math.max(1, burst.sends);
    const problems = [burstClients, pacedClients].filter((c) => !c.complete).length;
    const warmNote =
      warm.lost + warm.duplicates + warmSends.errors
        ? `warm-up: ${warmSends.errors} sends rejected (${warmSends.errorSample || 'none'}), ${warm.lost} events lost, ${warm.duplicates} duplicated (${warm.anomalies.join(', ')})`
        : '';
    return {
      redis: redis.label,
      masters,
      sizes,
      burst,
      burstClients,
      paced,
      pacedClients,
      redisMicrosPerSend: (redisAfter - redisBefore) / sends,
      instancesMicrosPerSend: usage.reduce((sum, u) => sum + u.cpuMicros, 0) / sends,
      publisherMicrosPerSend: burst.cpuMicrosPerSend,
      clientsMicrosPerSend: burstClients.cpuMicros / sends,
      fanOut: sizes.clients / sizes.names,
      rssPerConnection: (connected.rss - idle.rss) / sizes.clients,
      heapPerConnection: (connected.heapUsed - idle.heapUsed) / sizes.clients,
      note: [
        problems ? `${problems} phase(s) stalled` : '',
        burst.errors + paced.errors ? `${burst.errors + paced.errors} send errors (${burst.errorSample || paced.errorSample})` : '',
        warmNote,
      ]
        .filter(Boolean)
        .join('; '),
    };
  } finally {
    await fleet?.stop();
    await redis.stop();
  }
}
