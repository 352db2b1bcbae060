import type { SseModuleOptions } from '../lib/index.js';

/**
 * The one place where the sample's `SseModule` options are built from the
 * environment: the in-memory default, or the Redis transport when `REDIS_URL`
 * is set (then two instances on two ports share rooms, notifications and
 * history). `SSE_REDIS_PREFIX` keeps apps that share one Redis apart;
 * `SSE_MAX_CONNECTIONS` caps this instance (a refused page comes back by itself).
 */
export async function sampleSseOptions(): Promise<SseModuleOptions> {
  const options: SseModuleOptions = {
    // Short, so that a page visibly comes back within seconds after a restart or a busy moment.
    retry: 1000,
    reconnectSpread: 2000,
  };
  if (process.env.SSE_MAX_CONNECTIONS) options.maxConnections = Number(process.env.SSE_MAX_CONNECTIONS);
  const url = process.env.REDIS_URL;
  if (!url) return options;
  // Loaded only when asked for: the in-memory sample never loads ioredis.
  const { RedisTransport } = await import('../lib/redis.js');
  return { ...options, transport: new RedisTransport({ url, keyPrefix: process.env.SSE_REDIS_PREFIX }) };
}
