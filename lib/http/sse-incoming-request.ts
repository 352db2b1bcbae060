import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

/** A request as Node gives it, on either HTTP version. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;

/** What the platforms' request objects (Express `Request`, Fastify `FastifyRequest`) carry beyond Node's. */
type PlatformRequest = { raw?: NodeRequest; query?: unknown; ip?: string };

// Visible ASCII except '%' and ',': such a value travels as it is. Anything else is
// percent-encoded, '%' included, so that decoding is exact (`a%20b` stays `a%20b`),
// and ',' too, so that a list of values (`X-Sse-Group`) splits exactly.
const PLAIN_HEADER_VALUE = /^[\x21-\x24\x26-\x2b\x2d-\x7e]*$/;

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

/**
 * The facts of a request, read the same way on every platform: Express and
 * plain Node hand over Node's own request, Fastify wraps it (`request.raw`);
 * both parse the query (`request.query`) and know the caller's address
 * (`request.ip`, proxy-aware when configured).
 */
export class SseIncomingRequest {
  /** Node's request underneath the platform's. */
  readonly raw: NodeRequest;
  /** The request method (`GET`, `POST`, `HEAD`). */
  readonly method: string;

  constructor(
    /** The request object the platform hands to handlers and `@SseConnection()` callbacks. */
    readonly platformRequest: object,
  ) {
    this.raw = ((platformRequest as PlatformRequest).raw ?? platformRequest) as NodeRequest;
    this.method = this.raw.method ?? 'GET';
  }

  /** A header's value (lower-case name); the first one when repeated. */
  header(name: string): string | undefined {
    const value = this.raw.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  /** An `X-Sse-*` header, decoded (clients send back what a stream's response headers gave them). */
  sseHeader(name: string): string | undefined {
    const value = this.header(name);
    return value === undefined ? undefined : decodeHeaderValue(value);
  }

  /** A query parameter: from the platform's parsed query, or from the URL when there is none; the first when repeated. */
  query(name: string): string | undefined {
    const query = (this.platformRequest as PlatformRequest).query;
    if (typeof query === 'object' && query !== null) {
      const value = (query as Record<string, unknown>)[name];
      const first = Array.isArray(value) ? value[0] : value;
      return typeof first === 'string' ? first : undefined;
    }
    return new URL(this.raw.url ?? '/', 'http://localhost').searchParams.get(name) ?? undefined;
  }

  /** The caller's address: the platform's (proxy-aware when configured), else the socket's. */
  get remoteAddress(): string | undefined {
    return (this.platformRequest as PlatformRequest).ip ?? this.raw.socket?.remoteAddress;
  }
}
