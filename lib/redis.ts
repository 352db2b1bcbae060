/**
 * `nestjs-sse-hub/redis`: the Redis transport, in its own entry point so that
 * apps on the in-memory default never load `ioredis`.
 * @packageDocumentation
 */
export { RedisTransport } from './transports/redis.transport.js';
export type { RedisTransportOptions } from './interfaces/redis-transport-options.interface.js';
