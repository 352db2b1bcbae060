import { spawnSync } from 'node:child_process';
import { RedisServer } from './redis-servers.js';
import { Redis } from 'ioredis';

export { freePort, RedisServer } from './redis-servers.js';

/**
 * Redis for the Redis suites: a private `redis-server` on a free port (no
 * persistence, so a restart comes back empty), or the server of `REDIS_URL`.
 * Without either, the suites are skipped with a warning that says why; with
 * `SSE_HUB_REQUIRE_REDIS=1` (CI) they fail instead.
 */
const BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';
/** CI sets SSE_HUB_REQUIRE_REDIS=1: a Redis suite that cannot run fails instead of skipping. */
export const redisRequired = process.env.SSE_HUB_REQUIRE_REDIS === '1';

function binaryAvailable(): boolean {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  return probe.status === 0;
}

/** Why Redis suites cannot run here, or undefined when they can. */
export const redisUnavailable: string | undefined =
  process.env.REDIS_URL || binaryAvailable() ? undefined : `no REDIS_URL and no ${BINARY} binary on PATH`;

/** True when this machine can start (and so kill and restart) its own redis-server. */
export const canRestartRedis = binaryAvailable();

/**
 * `describe` for a suite that needs Redis: skipped with a console warning when
 * Redis is unavailable, failing when `SSE_HUB_REQUIRE_REDIS=1`.
 */
export function describeRedis(title: string, body: () => void): void {
  if (redisUnavailable === undefined) {
    describe(title, body);
  } else if (redisRequired) {
    describe(title, () => {
      it('needs Redis (SSE_HUB_REQUIRE_REDIS=1)', () => {
        throw new Error(`Redis suite "${title}" cannot run: ${redisUnavailable}`);
      });
    });
  } else {
    console.warn(`SKIPPED Redis suite "${title}": ${redisUnavailable}. Set REDIS_URL or install redis-server.`);
    describe.skip(title, body);
  }
}

/** Where the suites' Redis is: REDIS_URL, or a private server (stop it in afterAll). */
export async function useRedis(): Promise<{ url: string; server: RedisServer | undefined }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, server: undefined };
  const server = await RedisServer.start();
  return { url: server.url, server };
}

/**
 * Registers the hooks of a describe that needs Redis: `useRedis()` before its
 * tests, the private server stopped after them. Call it in an outer describe
 * and the apps in an inner one, so that the apps close before Redis stops.
 */
export function useRedisServer(): { readonly url: string; readonly server: RedisServer | undefined } {
  let redis: { url: string; server: RedisServer | undefined } | undefined;
  beforeAll(async () => {
    redis = await useRedis();
  });
  afterAll(async () => {
    await redis?.server?.stop();
    redis = undefined;
  });
  const running = () => {
    if (!redis) throw new Error('useRedisServer: Redis runs only inside tests and hooks that come after useRedisServer()');
    return redis;
  };
  return {
    get url() {
      return running().url;
    },
    get server() {
      return running().server;
    },
  };
}

/** A key prefix of its own for each suite, so suites sharing one Redis never meet. */
let prefixes = 0;
export function uniquePrefix(suite: string): string {
  return `test:${suite}:${process.pid}:${Date.now()}:${++prefixes}:`;
}

/** A plain client for inspecting Redis from a test. */
export function redisClient(url: string): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}
