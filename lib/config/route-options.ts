import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import type { SseConnectionOptions } from '../interfaces/sse-connection-options.interface.js';
import type { SseScope } from '../interfaces/sse-broadcast-level.type.js';

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
  resumable: true,
  follow: true,
} satisfies Record<keyof SseConnectionOptions, true>;

const KNOWN = Object.keys(ROUTE_OPTION_KEYS);

/**
 * The checks of a route's options that need more than the options themselves
 * (the decorator checks each value where it is written), run at bootstrap for
 * every route so that the app fails to start:
 * - an option `@SseConnection()` does not know (a typo such as `scop`, or an
 *   option of a later version), which would otherwise be silently ignored;
 * - `resumable` on a route whose scope (its own, else the module's
 *   `defaultScope`) is not `'local'`;
 * - `follow` on anything but a GET, or with options of an addressable connection.
 */
export function assertRouteOptions(where: string, options: SseConnectionOptions, method: string, defaultScope: SseScope): void {
  const unknown = Object.keys(options).find((key) => !KNOWN.includes(key));
  if (unknown !== undefined) throw new SseInvalidArgumentError(SseMessages.unknownRouteOption(where, unknown, KNOWN));
  if (options.resumable !== undefined && options.resumable !== false && (options.scope ?? defaultScope) !== 'local') {
    throw new SseInvalidArgumentError(SseMessages.resumableNotLocal(where));
  }
  if (options.follow !== undefined) {
    if (method !== 'GET') throw new SseInvalidArgumentError(SseMessages.followNotGet(where, method));
    const { scope, group, user, clientId, resumable } = options;
    if (scope === 'global' || group !== undefined || user !== undefined || clientId !== undefined || (resumable !== undefined && resumable !== false)) {
      throw new SseInvalidArgumentError(SseMessages.followWithScope(where));
    }
  }
}
