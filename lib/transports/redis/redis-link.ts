import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { SseTransportError } from '../../errors/sse-transport.error.js';
import { SseMessages } from '../../sse.messages.js';
import { withinTime } from '../../utils/bounded-wait.js';
import type { LuaScript } from './redis.scripts.js';
import type { RedisTransportSettings } from './redis-transport.options.js';

/** A client of one Redis or of a Redis Cluster (ioredis). */
export type RedisClient = Redis | Cluster;

type Arg = string | number | Buffer;

/**
 * ioredis defines `evalshaBuffer` / `evalBuffer` (replies as Buffers) without
 * declaring them; `callBuffer` would lose its command name when auto-pipelined.
 */
interface BufferScripting {
  evalshaBuffer(sha: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
  evalBuffer(script: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
}

/** The oldest Redis this transport runs on: sharded pub/sub (7.0) and streams. */
const MIN_REDIS_MAJOR = 7;

/**
 * The transport's connections to Redis: commands (failing fast while Redis
 * is away, so that a rejected send was carried out nowhere), sharded
 * subscriptions (waiting out an outage), and answers to this instance's
 * commands. Runs scripts and checks at start-up that the server is what the
 * options say (a cluster node given as a single url, an old Redis, wrong
 * credentials fail the start with `SseTransportError`).
 */
export class RedisLink {
  readonly commands: RedisClient;
  readonly subscriber: RedisClient;
  readonly replies: RedisClient;
  private readonly logger = new Logger('SseHub:Redis');
  private outage = false;
  private stopped = false;

  constructor(private readonly settings: RedisTransportSettings) {
    this.commands = this.client('commands', {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: settings.commandTimeout,
      // Everything issued in one event-loop turn leaves in one round trip per node.
      enableAutoPipelining: true,
    });
    this.subscriber = this.client('subscriber', { enableOfflineQueue: true, maxRetriesPerRequest: null }, true);
    this.replies = this.client('replies', { enableOfflineQueue: true, maxRetriesPerRequest: null });
  }

  get isCluster(): boolean {
    return this.settings.cluster !== undefined;
  }

  /** True while commands can be sent. */
  get isReady(): boolean {
    return !this.stopped && this.commands.status === 'ready';
  }

  /**
   * Waits (bounded) for Redis and checks it. Unreachable: resolves with a
   * warning (the app starts; sends reject until Redis is back). Reachable but
   * not what the options say: rejects with `SseTransportError`.
   */
  async start(): Promise<void> {
    // Refused credentials are a misconfiguration, not an outage: they fail the start.
    let refused: (error: Error) => void = () => undefined;
    const authRefused = new Promise<Error>((resolve) => (refused = resolve));
    const onError = (error: Error) => {
      if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(error.message)) refused(error);
    };
    this.commands.on('error', onError);
    // A cluster client never gets ready on a Redis without cluster support: ask a seed itself.
    if (this.isCluster && !(await this.seedIsCluster())) {
      this.commands.off('error', onError);
      throw new SseTransportError(SseMessages.redisIsNotCluster());
    }
    const ready = await withinTime(Promise.race([this.ready(this.commands).then(() => undefined), authRefused]), this.settings.commandTimeout * 5);
    this.commands.off('error', onError);
    if (ready.done && ready.value instanceof Error) throw new SseTransportError(SseMessages.redisRefusedCredentials(ready.value.message), ready.value);
    if (!ready.done) {
      this.logger.warn(SseMessages.transportNotReady(this.settings.commandTimeout));
      return;
    }
    const info = await this.command((client) => client.info(), 'INFO');
    const version = /redis_version:(\d+)\./.exec(info)?.[1];
    if (version === undefined || Number(version) < MIN_REDIS_MAJOR) {
      throw new SseTransportError(SseMessages.redisTooOld(version ?? 'unknown', MIN_REDIS_MAJOR));
    }
    const clusterEnabled = /cluster_enabled:1/.test(info);
    if (clusterEnabled && !this.isCluster) throw new SseTransportError(SseMessages.redisIsCluster());
    if (!clusterEnabled && this.isCluster) throw new SseTransportError(SseMessages.redisIsNotCluster());
  }

  /** Runs a script on the shard of its first key; any failure becomes an `SseTransportError`. */
  async run(script: LuaScript, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    return this.command(async (client) => {
      try {
        return await client.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client.eval(script.lua, keys.length, ...keys, ...args);
      }
    }, 'script');
  }

  /** `run`, with every string of the answer as a Buffer (frames stay bytes, no decoding). */
  async runBuffer(script: LuaScript, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    return this.command(async (client) => {
      try {
        return await (client as unknown as BufferScripting).evalshaBuffer(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return (client as unknown as BufferScripting).evalBuffer(script.lua, keys.length, ...keys, ...args);
      }
    }, 'script');
  }

  /**
   * Waits until one replica of the shard of `key` has every write this
   * connection made so far (`WAIT 1`), at most half of `commandTimeout`.
   */
  async replicated(key: string): Promise<void> {
    const acknowledged = await this.command(async (client) => {
      // A pipeline goes to the node of its keyed command: WAIT then runs on that node's connection.
      // Half the command timeout, so that WAIT answers (0 replicas) before the client gives up on it.
      const results = await client.pipeline().exists(key).wait(1, Math.max(1, Math.floor(this.settings.commandTimeout / 2))).exec();
      const [error, replicas] = results?.[1] ?? [new Error('no answer'), 0];
      if (error) throw error;
      return replicas as number;
    }, 'WAIT');
    if (acknowledged < 1) throw new SseTransportError(SseMessages.notReplicated(Math.floor(this.settings.commandTimeout / 2)));
  }

  /** Runs a command on the command client; a failure becomes an `SseTransportError`. */
  async command<T>(work: (client: RedisClient) => Promise<T>, what: string): Promise<T> {
    if (this.stopped) throw new SseTransportError(SseMessages.transportNotConnected());
    try {
      return await work(this.commands);
    } catch (error) {
      if (error instanceof SseTransportError) throw error;
      throw new SseTransportError(SseMessages.transportFailed(`${what}: ${error instanceof Error ? error.message : String(error)}`), error);
    }
  }

  /** Closes every connection. */
  stop(): void {
    this.stopped = true;
    for (const client of [this.subscriber, this.replies, this.commands]) client.disconnect();
  }

  /** False when the first seed node answers and is not a cluster node (unreachable: true, the start waits as usual). */
  private async seedIsCluster(): Promise<boolean> {
    const [seed] = this.settings.cluster!;
    const probe = new Redis({ ...this.settings.redis, ...this.settings.clusterOptions.redisOptions, host: seed.host, port: seed.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      const answer = await withinTime(probe.connect().then(() => probe.info('cluster')), this.settings.commandTimeout);
      return !answer.done || !/cluster_enabled:0/.test(answer.value);
    } catch {
      return true;
    } finally {
      probe.disconnect();
    }
  }

  private ready(client: RedisClient): Promise<void> {
    if (client.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => client.once('ready', () => resolve()));
  }

  private client(role: string, overrides: RedisOptions, sharded = false): RedisClient {
    const { settings } = this;
    const retryStrategy = (attempt: number) => Math.min(50 * attempt, 1_000);
    const client: RedisClient = settings.cluster
      ? new Cluster([...settings.cluster], {
          ...settings.clusterOptions,
          clusterRetryStrategy: retryStrategy,
          // A failover moves slots: learnt within a second, not at the next redirection.
          slotsRefreshInterval: 1_000,
          shardedSubscribers: sharded,
          enableOfflineQueue: overrides.enableOfflineQueue,
          enableAutoPipelining: overrides.enableAutoPipelining,
          redisOptions: { ...settings.redis, ...settings.clusterOptions.redisOptions, ...withoutQueueOption(overrides) },
        })
      : new Redis(settings.url!, { ...settings.redis, lazyConnect: false, retryStrategy, ...overrides });
    // Without a listener ioredis reports errors as unhandled; one line per outage.
    client.on('error', (error: Error) => {
      if (role !== 'commands' || this.outage || this.stopped) return;
      this.outage = true;
      this.logger.warn(SseMessages.transportDown(error.message));
    });
    client.on('ready', () => {
      if (role === 'commands' && this.outage) {
        this.outage = false;
        this.logger.log(SseMessages.transportBack());
      }
    });
    return client;
  }
}

/** Per-node options of a cluster client: the offline queue is the cluster's own option. */
function withoutQueueOption(options: RedisOptions): RedisOptions {
  const { enableOfflineQueue: _queue, enableAutoPipelining: _pipelining, ...rest } = options;
  return rest;
}
