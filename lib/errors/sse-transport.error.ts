import { SseError } from './sse.error.js';

/**
 * The transport could not carry a send, close or query (e.g. Redis is
 * unreachable or did not answer in time). For `send`: the event was delivered
 * nowhere, so the caller may retry it.
 */
export class SseTransportError extends SseError {
  constructor(
    message: string,
    /** The backend's own error, when there was one. */
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
