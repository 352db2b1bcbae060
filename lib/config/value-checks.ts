import { MAX_TIMER_MS } from '../sse.constants.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import type { SseBroadcastLevel, SseScope } from '../interfaces/sse-broadcast-level.type.js';

/**
 * One check per kind of value an option or argument can hold. Each returns the
 * value it accepted or throws `SseInvalidArgumentError` naming `where` (e.g.
 * `option keepAlive`); nothing is rounded or coerced.
 */

/** True for a non-null object that is not an array. */
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Accepts a safe integer of at least `min`. */
export function assertIntegerAtLeast(where: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new SseInvalidArgumentError(SseMessages.invalidValue(where, `an integer of at least ${min}`, value));
  }
  return value;
}

/** Accepts an integer ≥ 1 (a count or a size). */
export const assertPositiveInteger = (where: string, value: unknown): number => assertIntegerAtLeast(where, value, 1);

/** Accepts a non-negative integer of milliseconds (a `retry`, a timeout, a period). */
export function assertMilliseconds(where: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SseInvalidArgumentError(SseMessages.invalidMilliseconds(where, value));
  }
  return value;
}

/** Accepts a period for a timer: milliseconds that setInterval can hold. */
export function assertTimerPeriod(where: string, value: unknown): number {
  // Past 2^31 - 1 ms Node's timers overflow to 1 ms: a huge keep-alive would ping constantly.
  if (assertMilliseconds(where, value) > MAX_TIMER_MS) {
    throw new SseInvalidArgumentError(SseMessages.invalidValue(where, `at most ${MAX_TIMER_MS} milliseconds`, value));
  }
  return value as number;
}

/** Accepts a boolean. */
export function assertBoolean(where: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new SseInvalidArgumentError(SseMessages.invalidValue(where, 'a boolean', value));
  return value;
}

/** Accepts `'global'` or `'local'`. */
export function assertScope(value: unknown): SseScope {
  if (value !== 'global' && value !== 'local') throw new SseInvalidArgumentError(SseMessages.invalidScope(value));
  return value;
}

/** Accepts `'name'`, `'group'` or `'clientId'`. */
export function assertBroadcastLevel(value: unknown): SseBroadcastLevel {
  if (value !== 'name' && value !== 'group' && value !== 'clientId') {
    throw new SseInvalidArgumentError(SseMessages.invalidBroadcastLevel(value));
  }
  return value;
}

/** Accepts `'retry'` or `'reject'` (`SseModuleOptions.overload`). */
export function assertOverload(where: string, value: unknown): 'retry' | 'reject' {
  if (value !== 'retry' && value !== 'reject') throw new SseInvalidArgumentError(SseMessages.invalidValue(where, "'retry' or 'reject'", value));
  return value;
}

/** Reads `SseCloseOptions` (undefined: the defaults): true when the client may reconnect. */
export function mayReconnect(options: unknown): boolean {
  if (options === undefined) return true;
  if (!isPlainObject(options)) throw new SseInvalidArgumentError(SseMessages.invalidValue('close options', 'an object { reconnect? }', options));
  return options.reconnect === undefined ? true : assertBoolean('close option reconnect', options.reconnect);
}
