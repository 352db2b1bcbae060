import type { EventSourceMessage } from 'eventsource-parser';

/** The data of event `index`: `index:` padded to `bytes`, so that a reader checks order and completeness from the data alone. */
export const numbered = (index: number, bytes: number): string => `${index}:`.padEnd(bytes, 'x');

/** What `numberedEvents` reports as it is consumed. */
export interface NumberedEventsHooks {
  /** Called with how many events have been pulled so far. */
  pulled?(count: number): void;
  /** Called once the iterable is done or stopped by its consumer. */
  stopped?(): void;
}

/** `count` numbered events of `bytes` (endless by default), one per pull: what a handler returns to stream them. */
export async function* numberedEvents(bytes: number, count = Infinity, hooks: NumberedEventsHooks = {}): AsyncGenerator<{ data: string }> {
  try {
    for (let i = 0; i < count; i++) {
      hooks.pulled?.(i + 1);
      yield { data: numbered(i, bytes) };
    }
  } finally {
    hooks.stopped?.();
  }
}

/** Checks numbered events as a client receives them: all there, in order, each whole. */
export class NumberedEventCheck {
  /** Untyped events received (the index expected next). */
  next = 0;
  /** The first thing that was wrong, or ''. */
  broken = '';

  constructor(private readonly bytes: number) {}

  /** For `SseClient`'s `onEvent`: protocol events (typed) are not counted. */
  readonly onEvent = (event: EventSourceMessage): void => {
    if (event.event !== undefined) return;
    if (!this.broken && !event.data.startsWith(`${this.next}:`)) this.broken = `expected ${this.next}, got ${event.data.slice(0, 12)}…`;
    if (!this.broken && event.data.length !== this.bytes) this.broken = `event ${this.next}: ${event.data.length} bytes`;
    this.next++;
  };
}
