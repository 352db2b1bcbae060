import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { FastifyExchange, SseExchange, type FastifyReplyLike, type NodeResponse } from './sse-exchange.js';
import { SseIncomingRequest } from './sse-incoming-request.js';
import { Http1Channel } from './http1.channel.js';
import { Http2Channel } from './http2.channel.js';
import { GzipChannel } from './gzip.channel.js';
import { acceptsGzip } from './sse-request-checks.js';
import type { SseResponseChannel } from './sse-response-channel.js';

/** How a response's channel writes. */
export interface SseChannelOptions {
  /** An HTTP/1.1 response may write to its socket (`SseModuleOptions.directWrites`). */
  readonly directWrites: boolean;
  /** Gzip the stream when the request accepts it (the route's or module's `compression`). */
  readonly compression: boolean;
}

const isFastifyReply = (response: object): response is FastifyReplyLike =>
  (response as Partial<FastifyReplyLike>).raw !== undefined &&
  typeof (response as FastifyReplyLike).getHeaders === 'function' &&
  typeof (response as FastifyReplyLike).hijack === 'function';

const isHttp2 = (response: NodeResponse): response is Http2ServerResponse => 'stream' in response;

/**
 * The one place that tells platforms apart: Express and plain Node pass Node's
 * own response, Fastify wraps it (`reply.raw`); an HTTP/2 response carries its
 * stream. A new platform is one class here. A compressed stream wraps the
 * channel of either HTTP version (`GzipChannel`).
 */
export function createExchange(request: object, response: object, options: SseChannelOptions): SseExchange {
  const incoming = new SseIncomingRequest(request);
  const raw = (isFastifyReply(response) ? response.raw : response) as NodeResponse;
  const plain: SseResponseChannel = isHttp2(raw) ? new Http2Channel(raw) : new Http1Channel(raw as ServerResponse, options.directWrites);
  const channel = options.compression && acceptsGzip(incoming.header('accept-encoding')) ? new GzipChannel(plain) : plain;
  return isFastifyReply(response) ? new FastifyExchange(incoming, response, channel) : new SseExchange(incoming, raw, channel);
}
