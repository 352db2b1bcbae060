import type { ClusterOptions, RedisOptions } from 'ioredis';
import { assertPositiveInteger, isPlainObject } from '../../config/value-checks.js';
import { SseInvalidArgumentError } from '../../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../../sse.messages.js';

/** Options of `RedisTransport` (from `nestjs-sse-hub/redis`). Redis 7 or later. */
export interface RedisTransportOptions {
  /** One Redis server (or a Sentinel set, through `redis`), e.g. `redis://localhost:6379` (`rediss://` for TLS). */
  url?: string;
  /**
   * A Redis Cluster: some of its nodes, e.g. `[{ host: '10.0.0.1', port: 6379 }]`.
   * Names are spread over its shards (each name lives on one), sends use
   * sharded pub/sub. Give either `url` or `cluster`.
   */
  cluster?: ReadonlyArray<{ host: string; port: number }>;
  /** Prefix of every key and channel; instances of one app share it, different apps on one Redis must not. Default `'sse-hub:'`. */
  keyPrefix?: string;
  /**
   * Milliseconds a connection stays visible after its instance stops renewing
   * it (a crash). Instances renew every third of it. Default 15000.
   */
  presenceTtl?: number;
  /**
   * Longest wait, in milliseconds, for Redis to accept a send, a close, a join
   * or a leave, and to answer a query, before it rejects with `SseTransportError`. Default 2000.
   */
  commandTimeout?: number;
  /** Longest wait, in milliseconds, for the other instances to report what a close, join or leave changed. Default 2000. */
  closeTimeout?: number;
  /**
   * `'acknowledged'` (default): a send resolves once the Redis master applied
   * it; a failover right after may lose it (Redis replicates asynchronously).
   * `'replicated'`: a send resolves once one replica has it too (`WAIT`), and
   * rejects with `SseTransportError` when none confirms in `commandTimeout`.
   */
  durability?: 'acknowledged' | 'replicated';
  /**
   * Sends, closes, joins and leaves of one event-loop turn leave in one script
   * call per name (default true). Off: one call each (for comparison only).
   */
  batching?: boolean;
  /** Extra ioredis options (TLS, password, Sentinel, ...); the options this transport relies on win over them. */
  redis?: RedisOptions;
  /** Extra ioredis Cluster options, with `cluster`. */
  clusterOptions?: ClusterOptions;
}

/** The options with their defaults, checked. */
export interface RedisTransportSettings {
  readonly url: string | undefined;
  readonly cluster: ReadonlyArray<{ host: string; port: number }> | undefined;
  readonly keyPrefix: string;
  readonly presenceTtl: number;
  readonly commandTimeout: number;
  readonly closeTimeout: number;
  readonly durability: 'acknowledged' | 'replicated';
  readonly batching: boolean;
  readonly redis: RedisOptions;
  readonly clusterOptions: ClusterOptions;
}

const KNOWN = ['url', 'cluster', 'keyPrefix', 'presenceTtl', 'commandTimeout', 'closeTimeout', 'durability', 'batching', 'redis', 'clusterOptions'];

const invalid = (option: string, expected: string, value: unknown) =>
  new SseInvalidArgumentError(SseMessages.invalidOption(`RedisTransport ${option}`, expected, value));

/** Checks `RedisTransport` options; throws `SseInvalidArgumentError` on the first bad one. */
export function redisTransportSettings(options: RedisTransportOptions): RedisTransportSettings {
  if (!isPlainObject(options)) throw invalid('options', 'an object with a url or a cluster', options);
  const unknown = Object.keys(options).find((key) => !KNOWN.includes(key));
  if (unknown !== undefined) throw new SseInvalidArgumentError(SseMessages.unknownOption(`RedisTransport ${unknown}`, KNOWN));
  const { url, cluster } = options;
  if ((url === undefined) === (cluster === undefined)) throw invalid('url / cluster', 'exactly one of the two', url ?? cluster);
  if (url !== undefined && (typeof url !== 'string' || url === '')) throw invalid('url', 'a redis:// URL', url);
  if (
    cluster !== undefined &&
    (!Array.isArray(cluster) ||
      cluster.length === 0 ||
      !cluster.every((node) => isPlainObject(node) && typeof node.host === 'string' && Number.isInteger(node.port)))
  ) {
    throw invalid('cluster', 'a non-empty list of { host, port }', cluster);
  }
  const keyPrefix = options.keyPrefix ?? 'sse-hub:';
  if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix)) throw invalid('keyPrefix', 'a string without braces', keyPrefix);
  const durability = options.durability ?? 'acknowledged';
  if (durability !== 'acknowledged' && durability !== 'replicated') throw invalid('durability', "'acknowledged' or 'replicated'", durability);
  const batching = options.batching ?? true;
  if (typeof batching !== 'boolean') throw invalid('batching', 'a boolean', batching);
  return {
    url,
    cluster,
    keyPrefix,
    presenceTtl: assertPositiveInteger('option RedisTransport presenceTtl', options.presenceTtl ?? 15_000),
    commandTimeout: assertPositiveInteger('option RedisTransport commandTimeout', options.commandTimeout ?? 2_000),
    closeTimeout: assertPositiveInteger('option RedisTransport closeTimeout', options.closeTimeout ?? 2_000),
    durability,
    batching,
    redis: options.redis ?? {},
    clusterOptions: options.clusterOptions ?? {},
  };
}
