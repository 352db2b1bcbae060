import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { SseIncomingRequest } from './sse-incoming-request.js';
import type { SseResponseChannel } from './sse-response-channel.js';

/** The head of every event stream this library answers (a connection's, a HEAD's, the overload answer's). */
export const EVENT_STREAM_HEAD: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/** A response as Node gives it, on either HTTP version. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

/**
 * One HTTP request and its response, as an SSE stream needs them, whatever the
 * platform: made once per request (`createExchange`), its request read once,
 * its response written through a channel of its HTTP version (`Http1Channel`,
 * `Http2Channel`). This base class serves Express and plain Node; a platform
 * that holds the response back (Fastify) overrides `takeOver()`.
 */
export class SseExchange {
  constructor(
    /** The request's facts. */
    readonly incoming: SseIncomingRequest,
    protected readonly response: NodeResponse,
    /** How bytes reach the client on this HTTP version. */
    readonly channel: SseResponseChannel,
  ) {}

  /** Sets a response header before the answer (e.g. `Retry-After` on a refusal that an exception filter writes). */
  setHeader(name: string, value: string): void {
    this.response.setHeader(name, value);
  }

  /** Writes a `200` head with `headers` (over any the app set): the stream's start. */
  writeHead(headers: Record<string, string>): void {
    this.takeOver();
    this.channel.prepare();
    this.response.removeHeader('Content-Length');
    (this.response as ServerResponse).writeHead(200, { ...headers, ...this.channel.streamHeaders });
  }

  /** Answers with a status and headers alone, no body: a HEAD's `200`, or the `204` that stops a client for good. */
  answerHead(headers: Readonly<Record<string, string>>, status = 200): void {
    this.takeOver();
    (this.response as ServerResponse).writeHead(status, headers);
    this.response.end();
  }

  /**
   * Answers `200` with a whole, short event stream (`body`) and lets the HTTP
   * connection go with it (see `SseResponseChannel.closeConnection`): the
   * overload answer, after which the client comes back through the load balancer.
   */
  answerAndClose(headers: Readonly<Record<string, string>>, body: Buffer): void {
    this.takeOver();
    this.channel.closeConnection();
    (this.response as ServerResponse).writeHead(200, headers);
    this.response.end(body);
  }

  /** Runs `listener` once when the response closes (the client left, or the response ended). */
  onClose(listener: () => void): void {
    this.response.once('close', listener);
  }

  /** True when the response is gone before anything was written (the client left while pending). */
  get isGone(): boolean {
    return this.response.destroyed || this.response.writableEnded;
  }

  /**
   * Called as the stream writes its head: the platform lets go of the response.
   * Express and Node need nothing (headers the app set are already on Node's response).
   */
  protected takeOver(): void {}
}

/** The parts of a Fastify `FastifyReply` used here (public API; no import, Fastify stays optional). */
export interface FastifyReplyLike {
  raw: NodeResponse;
  getHeaders(): OutgoingHttpHeaders;
  hijack(): unknown;
}

/**
 * Fastify keeps `reply.header()` values (guards, interceptors, `onRequest` /
 * `preHandler` hooks) on the reply until `reply.send()`, which a stream never
 * calls: they are copied to Node's response here, so that `writeHead` merges
 * them under the SSE headers. `reply.hijack()` then tells Fastify the response
 * is ours: it will not answer it when the handler returns, and its
 * `handlerTimeout` does not destroy the open stream.
 */
export class FastifyExchange extends SseExchange {
  constructor(incoming: SseIncomingRequest, private readonly reply: FastifyReplyLike, channel: SseResponseChannel) {
    super(incoming, reply.raw, channel);
  }

  protected override takeOver(): void {
    if (this.reply.raw.headersSent) return;
    const headers = this.reply.getHeaders();
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value !== undefined) this.reply.raw.setHeader(name, value);
    }
    this.reply.hijack();
  }
}
