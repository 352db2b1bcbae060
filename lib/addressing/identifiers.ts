import { MAX_IDENTIFIER_LENGTH } from '../sse.constants.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';

// C0 controls and DEL: they would break headers, logs and frames.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
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

/** Returns the identifier or throws `SseInvalidArgumentError` naming its kind (`name`, `group`, `client id`). */
export function assertIdentifier(kind: string, value: unknown): string {
  if (!isValidIdentifier(value)) throw new SseInvalidArgumentError(SseMessages.invalidIdentifier(kind, value));
  return value;
}
