import { RedisClusterServers } from './redis-cluster-servers.js';

export { RedisClusterServers } from './redis-cluster-servers.js';

/** A Redis Cluster for the current describe, started in `beforeAll` and stopped in `afterAll`. */
export function useRedisCluster(masters = 3, replicas = 0): { readonly cluster: RedisClusterServers } {
  let cluster: RedisClusterServers | undefined;
  beforeAll(async () => {
    cluster = await RedisClusterServers.start(masters, replicas);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    get cluster() {
      if (!cluster) throw new Error('useRedisCluster: the cluster runs only inside tests and hooks that come after it');
      return cluster;
    },
  };
}
