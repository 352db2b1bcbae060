import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import type { SseConnectionOptions } from '../interfaces/sse-connection-options.interface.js';

/**
 * Every option `@SseConnection()` knows; `satisfies` makes the compiler demand
 * a line for each option of `SseConnectionOptions`, so adding one is one line here.
 */
const ROUTE_OPTION_KEYS = {
  name: true,
  scope: true,
  group: true,
  user: true,
  retry: true,
  clientId: true,
  allowAllOrigins: true,
  compression: true,
} satisfies Record<keyof SseConnectionOptions, true>;

const KNOWN = Object.keys(ROUTE_OPTION_KEYS);

/**
 * Refuses an option `@SseConnection()` does not know (a typo such as `scop`, or
 * an option of a later version), which would otherwise be silently ignored.
 * Run at bootstrap for every route, so that the app fails to start.
 */
export function assertKnownRouteOptions(where: string, options: object): void {
  const unknown = Object.keys(options).find((key) => !KNOWN.includes(key));
  if (unknown !== undefined) throw new SseInvalidArgumentError(SseMessages.unknownRouteOption(where, unknown, KNOWN));
}
