/**
 * How the processes of a scale-out run find Redis: passed to every instance
 * and publisher process as JSON in its first argument, so that they all
 * build the same `RedisTransport`.
 */
export interface ScaleRedis {
  /** One Redis server, e.g. `redis://127.0.0.1:6400`. */
  url?: string;
  /** Or a Redis Cluster's seed nodes. */
  cluster?: Array<{ host: string; port: number }>;
}

/** What an instance or publisher process of a scale-out run is told. */
export interface ScaleProcessOptions {
  redis: ScaleRedis;
  /** Key prefix of this run (new for every run, so runs never meet). */
  keyPrefix: string;
  /** The connection names an instance serves (one route `/sse/<name>` each). */
  names: string[];
}

/** Reads this process's options: JSON in its first argument (set by the orchestrator). */
export function scaleOptions(): ScaleProcessOptions {
  const raw = process.argv[2];
  if (!raw) throw new Error('no options: this process is started by bench/scale-out/scale-fleet.ts');
  return JSON.parse(raw) as ScaleProcessOptions;
}

/** The transport options for `RedisTransport` (url or cluster, and the run's prefix). */
export function transportOptions(options: ScaleProcessOptions): Record<string, unknown> {
  return { ...options.redis, keyPrefix: options.keyPrefix };
}
