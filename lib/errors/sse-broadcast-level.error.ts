import { SseError } from './sse.error.js';
import type { SseBroadcastLevel } from '../interfaces/sse-broadcast-level.type.js';

/**
 * A `send` addressed more clients than the name's broadcast level allows
 * (e.g. a whole name whose level is `'clientId'`). Nothing was sent.
 */
export class SseBroadcastLevelError extends SseError {
  constructor(
    message: string,
    /** The connection name whose level refused the send (named `eventName` before 0.2). */
    readonly connectionName: string,
    /** The level in force for that name. */
    readonly level: SseBroadcastLevel,
  ) {
    super(message);
  }
}
