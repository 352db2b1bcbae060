import type { SseEvent } from './sse-event.interface.js';

/**
 * How `SseHub.to()` turns each value of a stream into an event: by default a
 * value is the event's `data` (with `event` as its type when given); `toEvent`
 * builds the whole event instead. Give one of them, not both.
 */
export interface SseObserverOptions<T> {
  /** The event type (`event:`) of every value; the browser's `message` when absent. */
  event?: string;
  /** Builds the event of a value (its type, id, data). */
  toEvent?: (value: T) => SseEvent<unknown> | SseEvent<unknown>[];
}
