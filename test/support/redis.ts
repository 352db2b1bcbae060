import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

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

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server this test owns. */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    /** Extra redis-server arguments (cluster mode). */
    private readonly extraArgs: readonly string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** True between a (re)start and a stop. */
  get running(): boolean {
    return this.process !== undefined;
  }

  /** Starts a private server on a free port (with extra arguments, e.g. for cluster mode). */
  static async start(extraArgs: readonly string[] = [], port?: number): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await freePort()), extraArgs);
    await server.restart();
    return server;
  }

  /** (Re)starts the server on the same port, empty. */
  async restart(): Promise<void> {
    if (this.process) await this.stop();
    const child = spawn(
      BINARY,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...this.extraArgs],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
  }

  /** Kills the server (SIGKILL: no goodbye to its clients) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
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
