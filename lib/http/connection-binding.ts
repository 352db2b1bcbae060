import type { SseContext } from '../interfaces/sse-context.interface.js';

/** What a request is bound to: its connection, or the resumable stream it produces. */
export interface SseBoundContext extends SseContext {
  /** Opens the stream (the decorator's wrapper calls it once the handler returned). */
  open(): void;
}

// The connection made from a request, found again from the objects Nest hands
// around (the request in `@SseContext()`, the response in the decorator's
// wrapper). Looked up once per request, never per event.
const connections = new WeakMap<object, SseBoundContext>();

/** Remembers that `connection` was made from this request and response (a later binding replaces it). */
export function bindConnection(request: object, response: object, connection: SseBoundContext): void {
  connections.set(request, connection);
  connections.set(response, connection);
}

/** The connection made from this request or response, if any. */
export function connectionOf(requestOrResponse: unknown): SseBoundContext | undefined {
  return typeof requestOrResponse === 'object' && requestOrResponse !== null ? connections.get(requestOrResponse) : undefined;
}
