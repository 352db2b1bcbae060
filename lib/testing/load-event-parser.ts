import { SseTestClientError } from '../errors/sse-test-client.error.js';
import { SseMessages } from '../sse.messages.js';

/** The `eventsource-parser` module (an optional peer of `nestjs-sse-hub/testing`). */
export type EventSourceParserModule = typeof import('eventsource-parser');

let loading: Promise<EventSourceParserModule> | undefined;

/**
 * Loads `eventsource-parser` on the first connect, not at import time, so a
 * missing install is one clear error naming the package to add.
 */
export function loadEventSourceParser(): Promise<EventSourceParserModule> {
  loading ??= import('eventsource-parser').catch((error: unknown) => {
    loading = undefined;
    throw new SseTestClientError(SseMessages.testingNeedsParser(error instanceof Error ? error.message : String(error)));
  });
  return loading;
}
