import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, RedisServer } from './redis-servers.js';
import { until } from './wait.js';

const run = promisify(execFile);
const CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

/**
 * A Redis Cluster a test (or the bench) owns: `masters` masters (and `replicas` replicas
 * each), redis-server processes on free ports, joined with
 * `redis-cli --cluster create`, ready once every node says `cluster_state:ok`.
 */
export class RedisClusterServers {
  private constructor(
    readonly nodes: RedisServer[],
    private readonly dir: string,
  ) {}

  /** Seed nodes as `RedisTransport({ cluster })` takes them. */
  get seeds(): Array<{ host: string; port: number }> {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  static async start(masters = 3, replicas = 0, nodeTimeoutMs = 1000): Promise<RedisClusterServers> {
    const dir = mkdtempSync(path.join(tmpdir(), 'sse-hub-cluster-'));
    const ports = await Promise.all(Array.from({ length: masters * (1 + replicas) }, () => freePort()));
    const nodes = await Promise.all(
      ports.map((port) =>
        RedisServer.start(
          ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(nodeTimeoutMs), '--dir', dir],
          port,
        ),
      ),
    );
    const cluster = new RedisClusterServers(nodes, dir);
    try {
      await run(CLI, ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
      await cluster.untilHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Resolves once every running node reports `cluster_state:ok` and knows every slot's master. */
  async untilHealthy(timeoutMs = 30_000): Promise<void> {
    await until(async () => {
      const states = await Promise.all(this.nodes.filter((node) => node.running).map((node) => this.info(node.port)));
      return states.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info));
    }, 'the cluster to be healthy', timeoutMs);
  }

  /** The node that is master of the slot of `key`. */
  async masterOf(key: string): Promise<RedisServer> {
    const client = new Redis(this.nodes.find((node) => node.running)!.port, '127.0.0.1');
    try {
      const slot = (await client.call('CLUSTER', 'KEYSLOT', key)) as number;
      const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
      const owner = ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
      return this.nodes.find((node) => node.port === owner)!;
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async info(port: number): Promise<string> {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      return (await client.call('CLUSTER', 'INFO')) as string;
    } catch {
      return '';
    } finally {
      client.disconnect();
    }
  }
}
