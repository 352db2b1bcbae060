import { constants, type Http2ServerResponse } from 'node:http2';
import { ownBuffer } from '../utils/own-buffer.js';
import type { SseResponseChannel } from './sse-response-channel.js';

/**
 * HTTP/2 (Node's compatibility API, e.g. Fastify with `http2: true`). Many
 * streams share one session and its socket, so nothing here touches the
 * socket: timeouts, backpressure and closing act on this request's stream.
 * Connection-specific headers are forbidden on HTTP/2 and never sent.
 */
export class Http2Channel implements SseResponseChannel {
  readonly streamHeaders = {} as const;
  /** Bytes handed to the stream; what it still holds is not sent yet. */
  private written = 0;

  constructor(private readonly response: Http2ServerResponse) {}

  prepare(): void {
    // The stream's own timeout; `request.socket.setTimeout` would change the whole session's.
    this.response.stream.setTimeout(0);
  }

  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean {
    if (this.isFinished) return false;
    this.written += chunk.length;
    // A chunk that will wait gets memory of its own (see own-buffer.ts).
    return this.response.write(this.response.stream.writableLength > 0 ? ownBuffer(chunk) : chunk, callback);
  }

  get highWaterMark(): number {
    return this.response.stream.writableHighWaterMark;
  }

  get unsentBytes(): number {
    return this.response.stream.writableLength;
  }

  get sentBytes(): number {
    return this.written - this.response.stream.writableLength;
  }

  get needsDrain(): boolean {
    return this.response.stream.writableNeedDrain;
  }

  whenWritable(): Promise<void> {
    const stream = this.response.stream;
    if (!stream.writableNeedDrain || this.isFinished) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  }

  get isFinished(): boolean {
    const stream = this.response.stream;
    return this.response.writableEnded || stream.destroyed || stream.closed;
  }

  onEnd(listener: () => void): void {
    // Node's compatibility API tells nothing at end(): only once the stream has
    // sent everything. Until then a write sees isFinished and lets go.
    this.response.once('finish', listener);
  }

  end(chunk?: Buffer): void {
    if (this.isFinished) return;
    if (chunk !== undefined) this.write(chunk);
    this.response.end();
  }

  closeConnection(): void {
    const session = this.response.stream.session;
    if (session && !session.closed && !session.destroyed) session.close();
  }

  destroy(): void {
    // RST_STREAM for this stream only; the session and its other streams go on.
    this.response.stream.close(constants.NGHTTP2_CANCEL);
  }
}
