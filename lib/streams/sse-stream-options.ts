import { DEFAULT_STREAM_MAX_DURATION_MS, DEFAULT_STREAM_TTL_MS } from '../sse.constants.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import { assertTimerPeriod, isPlainObject } from '../config/value-checks.js';

/** A route's `resumable` option, checked, with defaults applied. */
export interface SseResumableSettings {
  readonly ttl: number;
  readonly maxDuration: number;
  readonly id: ((request: any) => string) | undefined;
}

const RESUMABLE_KEYS = ['ttl', 'id', 'maxDuration'];

/**
 * Reads `resumable` (undefined when the route is not resumable); throws
 * `SseInvalidArgumentError` for a bad value. Called where the decorator is
 * written, and again by the stream service (cheap: once per stream).
 */
export function resumableSettings(value: unknown): SseResumableSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { ttl: DEFAULT_STREAM_TTL_MS, maxDuration: DEFAULT_STREAM_MAX_DURATION_MS, id: undefined };
  if (!isPlainObject(value)) {
    throw new SseInvalidArgumentError(SseMessages.invalidOption('resumable', 'true or { ttl?, id?, maxDuration? }', value));
  }
  const unknown = Object.keys(value).find((key) => !RESUMABLE_KEYS.includes(key));
  if (unknown !== undefined) throw new SseInvalidArgumentError(SseMessages.invalidOption(`resumable.${unknown}`, 'one of ttl, id, maxDuration', unknown));
  const { ttl, id, maxDuration } = value;
  if (id !== undefined && typeof id !== 'function') throw new SseInvalidArgumentError(SseMessages.invalidOption('resumable.id', 'a function', id));
  return {
    // Timer periods: both are waited for with setTimeout.
    ttl: ttl === undefined ? DEFAULT_STREAM_TTL_MS : assertTimerPeriod('option resumable.ttl', ttl),
    maxDuration: maxDuration === undefined ? DEFAULT_STREAM_MAX_DURATION_MS : assertTimerPeriod('option resumable.maxDuration', maxDuration),
    id: id as SseResumableSettings['id'],
  };
}

/** Checks `follow`: a function of the request. */
export function assertFollow(value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new SseInvalidArgumentError(SseMessages.invalidOption('follow', 'a function', value));
}
