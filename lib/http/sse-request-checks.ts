import type { SseIncomingRequest } from './sse-incoming-request.js';

// Media ranges under which text/event-stream falls (RFC 9110 §12.5.1).
const EVENT_STREAM_RANGES = new Set(['text/event-stream', 'text/*', '*/*']);

/**
 * True when the request's `Accept` allows `text/event-stream`. No `Accept` (or an
 * empty one) allows anything, as RFC 9110 says; the wildcard ranges (any type,
 * any text type) do too, unless given `q=0`. So browsers' EventSource and plain fetch/curl pass, and a
 * client that asks only for e.g. `application/json` is told 406.
 */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const quality = params.find((param) => param.startsWith('q='));
    if (quality !== undefined && Number(quality.slice(2)) === 0) return false;
    return EVENT_STREAM_RANGES.has(type);
  });
}

/** True when the request announces a body (a length above zero, or chunked). */
export function hasBody(request: SseIncomingRequest): boolean {
  const length = request.header('content-length');
  return (length !== undefined && length !== '0') || request.header('transfer-encoding') !== undefined;
}

/**
 * True when the request's `Accept-Encoding` allows gzip (RFC 9110 §12.5.3):
 * `gzip` (or `x-gzip`) with a quality above 0, else `*` with one; a `gzip;q=0`
 * refuses it even beside `*`. No header: false (a stream is compressed only
 * for a client that asks).
 */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  let wildcard = false;
  for (const coding of acceptEncoding.split(',')) {
    const [name, ...params] = coding.split(';').map((part) => part.trim().toLowerCase());
    const quality = params.find((param) => param.startsWith('q='));
    const accepted = quality === undefined || Number(quality.slice(2)) > 0;
    if (name === 'gzip' || name === 'x-gzip') return accepted;
    if (name === '*') wildcard = accepted;
  }
  return wildcard;
}
