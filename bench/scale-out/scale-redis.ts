/**
 * The Redis of a scale-out run, owned by the run: one `redis-server` or a
 * 3-master Redis Cluster on free ports (the test suites' own code,
 * test/support/redis-servers.ts and redis-cluster-servers.ts), and the CPU
 * Redis used, read from `INFO cpu` of every master.
 */
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { RedisServer } from '../../test/support/redis-servers.js';
import { RedisClusterServers } from '../../test/support/redis-cluster-servers.js';
import type { ScaleRedis } from './scale-options.js';

/** A Redis the run started: how to reach it, its masters' ports, and how to stop it. */
export interface ScaleRedisServers {
  readonly label: string;
  readonly connection: ScaleRedis;
  readonly masters: number[];
  stop(): Promise<void>;
}

/** Why the scale-out bench cannot run here (no redis-server / redis-cli), or undefined. */
export function scaleOutUnavailable(): string | undefined {
  for (const binary of [process.env.REDIS_SERVER_BIN ?? 'redis-server', process.env.REDIS_CLI_BIN ?? 'redis-cli']) {
    if (spawnSync(binary, ['--version']).status !== 0) return `no ${binary} on PATH`;
  }
  return undefined;
}

/** Starts one Redis server, or a Redis Cluster of `masters` masters (no replicas). */
export async function startRedis(masters: number): Promise<ScaleRedisServers> {
  if (masters === 1) {
    const server = await RedisServer.start();
    return { label: 'single Redis', connection: { url: server.url }, masters: [server.port], stop: () => server.stop() };
  }
  const cluster = await RedisClusterServers.start(masters, 0);
  return {
    label: `Redis Cluster, ${masters} masters`,
    connection: { cluster: cluster.seeds },
    masters: cluster.nodes.map((node) => node.port),
    stop: () => cluster.stop(),
  };
}

/** CPU (user + system, µs) that the servers on `ports` have used since they started, summed. */
export async function redisCpuMicros(ports: readonly number[]): Promise<number> {
  let total = 0;
  for (const port of ports) {
    const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      const info = (await client.info('cpu')) as string;
      const field = (name: string) => Number(new RegExp(`(?:^|\\n)${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
      total += (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
    } finally {
      client.disconnect();
    }
  }
  return total;
}
