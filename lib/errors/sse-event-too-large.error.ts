import { SseError } from './sse.error.js';

/**
 * An event whose encoded frame is larger than the module's `maxEventBytes`.
 * Nothing was sent, to anyone (a send with several events is refused whole).
 */
export class SseEventTooLargeError extends SseError {
  constructor(
    message: string,
    /** Bytes the event's frame would have taken on the wire (UTF-8). */
    readonly size: number,
    /** The `maxEventBytes` in force. */
    readonly limit: number,
  ) {
    super(message);
  }
}
