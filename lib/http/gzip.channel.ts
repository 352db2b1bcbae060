import { GZIP_HEADER, gzipBlockOf, SseGzipTally } from '../delivery/sse-gzip.js';
import type { SseResponseChannel } from './sse-response-channel.js';

/**
 * A compressed stream (`compression` on, the request accepts gzip) over the
 * channel of its HTTP version: the same channel, but every chunk goes out as
 * its gzip block, compressed once for all recipients (see sse-gzip.ts), so a
 * broadcast still costs one compression, not one per connection; the first
 * write carries the gzip header, the end the trailer. Backpressure and
 * closing are the inner channel's, counted in compressed bytes.
 */
export class GzipChannel implements SseResponseChannel {
  readonly streamHeaders: Readonly<Record<string, string>>;
  private readonly tally = new SseGzipTally();
  private started = false;

  constructor(private readonly inner: SseResponseChannel) {
    this.streamHeaders = { ...inner.streamHeaders, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' };
  }

  prepare(): void {
    this.inner.prepare();
  }

  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean {
    const block = gzipBlockOf(chunk);
    this.tally.add(block);
    if (this.started) return this.inner.write(block.bytes, callback);
    // The first chunk (sse.open) is this connection's own anyway: header and block in one write.
    this.started = true;
    return this.inner.write(Buffer.concat([GZIP_HEADER, block.bytes]), callback);
  }

  get highWaterMark(): number {
    return this.inner.highWaterMark;
  }

  get unsentBytes(): number {
    return this.inner.unsentBytes;
  }

  get sentBytes(): number {
    return this.inner.sentBytes;
  }

  get needsDrain(): boolean {
    return this.inner.needsDrain;
  }

  whenWritable(): Promise<void> {
    return this.inner.whenWritable();
  }

  get isFinished(): boolean {
    return this.inner.isFinished;
  }

  onEnd(listener: () => void): void {
    this.inner.onEnd(listener);
  }

  end(chunk?: Buffer): void {
    if (this.inner.isFinished) return;
    if (chunk !== undefined) this.write(chunk);
    // A stream that ends before its first chunk still ends as a whole gzip member.
    this.inner.end(this.started ? this.tally.trailer() : Buffer.concat([GZIP_HEADER, this.tally.trailer()]));
  }

  closeConnection(): void {
    this.inner.closeConnection();
  }

  destroy(): void {
    this.inner.destroy();
  }
}
