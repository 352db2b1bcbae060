import { MAX_IDENTIFIER_LENGTH, PROTOCOL_EVENT_PREFIX, MAX_LAST_EVENT_ID_LENGTH, MAX_TIMER_MS } from '../sse.constants.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import type { SseBroadcastLevel, SseScope } from '../interfaces/sse-broadcast-level.type.js';
import type { SseEvent, SseTarget } from '../interfaces/sse-event.interface.js';
import type { SseTransport } from '../interfaces/sse-transport.interface.js';

// C0 controls and DEL: they would break headers, logs and frames.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
// What the HTML spec's line splitting and field parsing cannot carry.
const FRAME_BREAKERS = /[\r\n\u0000]/;
// A UTF-16 surrogate without its pair: UTF-8 cannot carry it (Buffer.from would
// silently turn it into U+FFFD) and encodeURIComponent throws on it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when the string can travel as UTF-8 unchanged (no lone surrogate). */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/** True for a name, group or client id: 1–256 characters, no control characters, no lone surrogate. */
export function isValidIdentifier(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_IDENTIFIER_LENGTH &&
    !CONTROL_CHARACTERS.test(value) &&
    isWellFormedText(value)
  );
}

/** Returns the identifier or throws `SseInvalidArgumentError` naming its kind. */
export function assertIdentifier(kind: string, value: unknown): string {
  if (!isValidIdentifier(value)) {
    throw new SseInvalidArgumentError(SseMessages.invalidIdentifier(kind, value, MAX_IDENTIFIER_LENGTH));
  }
  return value;
}

/** Accepts an integer ≥ 1 (a count or a size); anything else is refused, not rounded. */
export function assertPositiveInteger(where: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new SseInvalidArgumentError(SseMessages.invalidValue(where, 'an integer of at least 1', value));
  }
  return value;
}

/** Accepts a boolean. */
export function assertBoolean(where: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new SseInvalidArgumentError(SseMessages.invalidValue(where, 'a boolean', value));
  return value;
}

/** Accepts a period for a timer: a non-negative integer of milliseconds that setInterval can hold. */
export function assertTimerPeriod(where: string, value: unknown): number {
  // Past 2^31 - 1 ms Node's timers overflow to 1 ms: a huge keep-alive would ping constantly.
  if (assertRetry(where, value) > MAX_TIMER_MS) {
    throw new SseInvalidArgumentError(SseMessages.invalidValue(where, `at most ${MAX_TIMER_MS} milliseconds`, value));
  }
  return value as number;
}

/** Accepts a non-negative integer of milliseconds; anything else is refused, not rounded. */
export function assertRetry(where: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SseInvalidArgumentError(SseMessages.invalidRetry(where, value));
  }
  return value;
}

export function assertScope(value: unknown): SseScope {
  if (value !== 'global' && value !== 'local') {
    throw new SseInvalidArgumentError(SseMessages.invalidScope(value));
  }
  return value;
}

export function assertBroadcastLevel(value: unknown): SseBroadcastLevel {
  if (value !== 'name' && value !== 'group' && value !== 'clientId') {
    throw new SseInvalidArgumentError(SseMessages.invalidBroadcastLevel(value));
  }
  return value;
}

/** A target with every list as a checked array (`undefined` = not given). */
export interface NormalizedTarget {
  names: string[];
  groups: string[] | undefined;
  clientIds: string[] | undefined;
}

const toList = (kind: string, value: string | string[] | undefined): string[] | undefined => {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  for (const item of list) assertIdentifier(kind, item);
  // Repeats are dropped once here, so that no recipient, history entry or
  // transport message ever counts a name, group or client id twice.
  return list.length > 1 ? [...new Set(list)] : list;
};

/** Validates a target; throws `SseInvalidArgumentError` on anything malformed. */
export function normalizeTarget(target: SseTarget): NormalizedTarget {
  if (typeof target !== 'object' || target === null) {
    throw new SseInvalidArgumentError(SseMessages.missingTarget());
  }
  const names = toList('name', target.name);
  if (!names || names.length === 0) {
    throw new SseInvalidArgumentError(names ? SseMessages.emptyNameList() : SseMessages.missingTarget());
  }
  return {
    names,
    groups: toList('group', target.group),
    clientIds: toList('client id', target.clientId),
  };
}

/** Checks the fields of one event that go on the wire as they are. */
export function assertEvent(event: SseEvent<unknown>): void {
  if (typeof event !== 'object' || event === null || !('data' in event)) {
    throw new SseInvalidArgumentError(SseMessages.invalidEvent(event));
  }
  const { event: type, id, retry } = event;
  if (
    type !== undefined &&
    (typeof type !== 'string' ||
      type.length === 0 ||
      FRAME_BREAKERS.test(type) ||
      !isWellFormedText(type) ||
      type.startsWith(PROTOCOL_EVENT_PREFIX))
  ) {
    throw new SseInvalidArgumentError(SseMessages.invalidEventField('event', type));
  }
  if (id !== undefined) {
    if (typeof id !== 'string' || FRAME_BREAKERS.test(id) || !isWellFormedText(id)) {
      throw new SseInvalidArgumentError(SseMessages.invalidEventField('id', id));
    }
    if (id.length > MAX_LAST_EVENT_ID_LENGTH) {
      throw new SseInvalidArgumentError(SseMessages.eventIdTooLong(MAX_LAST_EVENT_ID_LENGTH));
    }
  }
  if (retry !== undefined) assertRetry('event retry', retry);
}

const TRANSPORT_METHODS = ['connect', 'disconnect', 'publish', 'close', 'register', 'unregister', 'names', 'groups', 'clientIds', 'count'] as const;

/** Accepts `undefined` or an object with every `SseTransport` method. */
export function assertTransport(value: unknown): SseTransport | undefined {
  if (value === undefined) return undefined;
  const missing = TRANSPORT_METHODS.find(
    (method) => typeof (value as Record<string, unknown> | null)?.[method] !== 'function',
  );
  if (missing !== undefined) {
    throw new SseInvalidArgumentError(SseMessages.invalidOption('transport', `an SseTransport (no ${missing}() found)`, value));
  }
  return value as SseTransport;
}
