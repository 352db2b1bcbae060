import type { RedisOptions } from 'ioredis';

/** Options of `RedisTransport` (from `nestjs-sse-hub/redis`). */
export interface RedisTransportOptions {
  /** Where Redis is, e.g. `redis://localhost:6379` (`rediss://` for TLS). Redis ≥ 6.2. */
  url: string;
  /** Prefix of every key and channel; instances of one app share it, different apps on one Redis must not. Default `'sse-hub:'`. */
  keyPrefix?: string;
  /**
   * Milliseconds a connection stays visible after its instance stops renewing
   * it (a crash). Instances renew every third of it. Default 15000.
   */
  presenceTtl?: number;
  /**
   * Longest wait, in milliseconds, for Redis to accept a send or a close, and
   * to answer a query, before it rejects with `SseTransportError`. Default 2000.
   */
  commandTimeout?: number;
  /** Longest wait, in milliseconds, for the other instances to report what a `close` closed. Default 2000. */
  closeTimeout?: number;
  /**
   * Approximate number of entries kept in the shared event stream that
   * instances read from: an instance cut off from Redis while more events than
   * this were sent misses the oldest of them. Default 100000.
   */
  streamLength?: number;
  /** Extra ioredis options (TLS, password, ...); the options this transport relies on win over them. */
  redis?: RedisOptions;
}
