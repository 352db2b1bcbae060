import { SseError } from './sse.error.js';

/**
 * The transport could not carry a send, close or query (e.g. Redis is
 * unreachable or did not answer in time). For `send`: the event was delivered
 * nowhere, so the caller may retry it — unless `failedNames` says otherwise:
 * a send to several names is atomic per name, and then only those names got
 * nothing (the others were delivered).
 */
export class SseTransportError extends SseError {
  constructor(
    message: string,
    /** The backend's own error, when there was one. */
    override readonly cause?: unknown,
    /** For a send to several names of which some went through: the names it went nowhere for. */
    readonly failedNames?: readonly string[],
  ) {
    super(message);
  }
}
