import { SseError } from './sse.error.js';

/**
 * An argument or option was refused before anything was sent: a bad name,
 * group or client id, an event type or id with CR/LF/NUL, a bad retry value,
 * data that cannot be JSON-encoded, an invalid module option.
 */
export class SseInvalidArgumentError extends SseError {}
