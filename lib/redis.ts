/**
 * `nestjs-sse-hub/redis`: the Redis transport, in its own entry point so that
 * apps on the in-memory default never load `ioredis`.
 * @packageDocumentation
 */
export { RedisTransport, type RedisTransportOptions } from './transports/redis/redis.transport.js';
