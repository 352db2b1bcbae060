/** One event as `SseTestClient` received it. `T` is what its data decodes to. */
export interface SseTestEvent<T = unknown> {
  /** The event type (`event:`); `'message'` when the stream gave none, as in a browser. */
  readonly type: string;
  /** The data as received: lines joined with LF. */
  readonly data: string;
  /** The event's `id:`, if it had one. */
  readonly id: string | undefined;
  /** The data JSON-decoded (what `SseHub.send` encodes for any non-string data); throws when it is not JSON. */
  json(): T;
}

/** The data of `sse.open`: who the connection is. */
export interface SseTestOpenData {
  clientId: string;
  name: string;
  /** Its first group, or null. */
  group: string | null;
  /** Its groups, in join order. */
  groups: string[];
  /** Its user, when the route gives one. */
  user?: string;
  [field: string]: unknown;
}

/** Builds a received event. @internal */
export function testEvent<T>(type: string | undefined, data: string, id: string | undefined): SseTestEvent<T> {
  return { type: type ?? 'message', data, id, json: () => JSON.parse(data) as T };
}
