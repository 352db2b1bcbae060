import type { SseClientConnection } from '../connection/sse-client-connection.js';

// The connection made from a request, found again from the objects Nest hands
// around (the request in `@SseContext()`, the response in the decorator's
// wrapper). Looked up once per request, never per event.
const connections = new WeakMap<object, SseClientConnection>();

/** Remembers that `connection` was made from this request and response. */
export function bindConnection(request: object, response: object, connection: SseClientConnection): void {
  connections.set(request, connection);
  connections.set(response, connection);
}

/** The connection made from this request or response, if any. */
export function connectionOf(requestOrResponse: unknown): SseClientConnection | undefined {
  return typeof requestOrResponse === 'object' && requestOrResponse !== null ? connections.get(requestOrResponse) : undefined;
}
