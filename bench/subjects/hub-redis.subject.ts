import { ExpressAdapter } from '@nestjs/platform-express';
import { startHub } from './hub-app.js';
import type { BenchSubject } from './subject.js';

// Loaded by path so that the bench builds on a tree without the Redis transport.
const REDIS_ENTRY = '../../lib/redis.js';

/**
 * This library on Express with the Redis transport (Redis at BENCH_REDIS_URL,
 * default redis://127.0.0.1:6379). Instances of one run share a key prefix,
 * new for every run, so runs never see each other's state.
 */
export async function start(_instance: number, runId: string): Promise<BenchSubject> {
  const { RedisTransport } = (await import(REDIS_ENTRY)) as {
    RedisTransport: new (options: { url: string; keyPrefix?: string }) => object;
  };
  const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  return startHub(new ExpressAdapter(), { transport: new RedisTransport({ url, keyPrefix: `sse-bench:${runId}:` }) });
}
