import type { SseModuleOptions } from '../lib/index.js';

/**
 * The one place where the sample's `SseModule` options are built from the
 * environment. Today it is the in-memory default; the Redis transport
 * (`REDIS_URL`, so that two instances on two ports share rooms) plugs in here.
 */
export function sampleSseOptions(): SseModuleOptions {
  return {
    // Short, so that a page visibly comes back within a second after a restart.
    retry: 1000,
  };
}
