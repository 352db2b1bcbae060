import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { SseStream } from '../connection/sse-client-connection.js';

/**
 * Platform neutrality in one place: Express passes Node's own request and
 * response, Fastify wraps them (`request.raw`, `reply.raw`).
 */
type PlatformRequest = { raw?: IncomingMessage; headers?: IncomingMessage['headers']; query?: unknown; ip?: string };
type PlatformResponse = { raw?: ServerResponse };
/** The parts of a Fastify `FastifyReply` used here (public API; no import, Fastify stays optional). */
type FastifyReplyLike = { raw: ServerResponse; getHeaders(): OutgoingHttpHeaders; hijack(): unknown };

const isFastifyReply = (response: unknown): response is FastifyReplyLike =>
  typeof response === 'object' &&
  response !== null &&
  (response as PlatformResponse).raw !== undefined &&
  typeof (response as FastifyReplyLike).getHeaders === 'function' &&
  typeof (response as FastifyReplyLike).hijack === 'function';

export function rawRequest(request: unknown): IncomingMessage {
  return ((request as PlatformRequest).raw ?? request) as IncomingMessage;
}

export function rawResponse(response: unknown): ServerResponse {
  return ((response as PlatformResponse).raw ?? response) as ServerResponse;
}

// Visible ASCII except '%': such a value travels as it is. Anything else is
// percent-encoded, '%' included, so that decoding is exact (`a%20b` stays `a%20b`).
const PLAIN_HEADER_VALUE = /^[\x21-\x24\x26-\x7e]*$/;

/** A name, group or client id as it travels in an `X-Sse-*` header. */
export function encodeHeaderValue(value: string): string {
  return PLAIN_HEADER_VALUE.test(value) ? value : encodeURIComponent(value);
}

/** The inverse of `encodeHeaderValue`; a value that does not decode is returned as it is (and then refused as invalid). */
export function decodeHeaderValue(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A header's value; the first one when repeated. */
export function readHeader(request: unknown, name: string): string | undefined {
  const value = rawRequest(request).headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** An `X-Sse-*` header, decoded (clients send back what the stream's response headers gave them). */
export function readSseHeader(request: unknown, name: string): string | undefined {
  const value = readHeader(request, name);
  return value === undefined ? undefined : decodeHeaderValue(value);
}

/** A query parameter from the platform's parsed query, or from the URL when there is none. */
export function readQuery(request: unknown, name: string): string | undefined {
  const query = (request as PlatformRequest).query;
  if (typeof query === 'object' && query !== null) {
    const value = (query as Record<string, unknown>)[name];
    const first = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' ? first : undefined;
  }
  const url = rawRequest(request).url ?? '/';
  return new URL(url, 'http://localhost').searchParams.get(name) ?? undefined;
}

/** The caller's address: the platform's (proxy-aware when configured), else the socket's. */
export function remoteAddress(request: unknown): string | undefined {
  return (request as PlatformRequest).ip ?? rawRequest(request).socket?.remoteAddress;
}

// A pending or open connection, found again from the objects Nest hands around.
const connections = new WeakMap<object, SseStream>();
// And back: the platform response of each connection, needed again when its stream opens.
const platformResponses = new WeakMap<SseStream, object>();

/** Links a connection to the platform request and response it was made from. */
export function attachConnection(request: object, response: object, connection: SseStream): void {
  connections.set(request, connection);
  connections.set(response, connection);
  platformResponses.set(connection, response);
}

/**
 * Called when a stream writes its head: the platform lets go of the response.
 *
 * Express: nothing to do, headers the app set (`res.setHeader`, `cors`) are
 * already on Node's response. Fastify keeps `reply.header()` values (guards,
 * interceptors, `onRequest` / `preHandler` hooks) on the reply until
 * `reply.send()`, which a stream never calls: they are copied to Node's response
 * here, so that `writeHead` merges them under the SSE headers. `reply.hijack()`
 * then tells Fastify the response is ours: it will not answer it when the
 * handler returns, and its `handlerTimeout` does not destroy the open stream.
 */
export function takeOverResponse(connection: SseStream): void {
  const reply = platformResponses.get(connection);
  if (!isFastifyReply(reply) || reply.raw.headersSent) return;
  const headers = reply.getHeaders();
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
  reply.hijack();
}

/** The connection made from this request or response, if any. */
export function connectionOf(requestOrResponse: unknown): SseStream | undefined {
  return typeof requestOrResponse === 'object' && requestOrResponse !== null
    ? connections.get(requestOrResponse)
    : undefined;
}
