import type { SseModuleOptions } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { uniquePrefix, useRedisServer } from './redis.js';
import { useRedisCluster } from './redis-cluster.js';

/** The module options of each instance of one cluster (instances share what the transport shares). */
export type ClusterOptions = (instance: number) => SseModuleOptions;

/**
 * A transport as the conformance suite sees it (socket.io-redis-adapter's
 * `testSuite(createAdapter)`): how many app instances make a cluster, and how
 * to configure them. Add a transport here and every conformance case runs on it.
 */
export interface TransportSetup {
  readonly name: string;
  /** App instances per cluster; cases spread clients and calls over them. */
  readonly instances: number;
  /** True when the transport needs Redis: its suite is skipped, or fails with SSE_HUB_REQUIRE_REDIS=1, without it. */
  readonly needsRedis: boolean;
  /**
   * Registers, in the current describe, the hooks of what its clusters share
   * (a redis-server); returns a factory of new clusters, each isolated from
   * the others (its own key prefix), called inside hooks.
   */
  use(): () => ClusterOptions;
}

/** The default transport: one instance, in memory. */
export const memory: TransportSetup = {
  name: 'memory',
  instances: 1,
  needsRedis: false,
  use: () => () => () => ({}),
};

/** Two instances in one process sharing a private redis-server. */
export const redis: TransportSetup = {
  name: 'redis',
  instances: 2,
  needsRedis: true,
  use() {
    const server = useRedisServer();
    return () => {
      const keyPrefix = uniquePrefix('conformance');
      return () => ({ transport: new RedisTransport({ url: server.url, keyPrefix }) });
    };
  },
};

/** Two instances in one process on a private Redis Cluster of three masters: names spread over its shards. */
export const redisCluster: TransportSetup = {
  name: 'redis cluster',
  instances: 2,
  needsRedis: true,
  use() {
    const servers = useRedisCluster(3);
    return () => {
      const keyPrefix = uniquePrefix('conformance-cluster');
      return () => ({ transport: new RedisTransport({ cluster: servers.cluster.seeds, keyPrefix }) });
    };
  },
};

/** Every transport the conformance suite runs against. */
export const transports: TransportSetup[] = [memory, redis, redisCluster];
