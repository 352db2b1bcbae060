import { OutgoingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { allocOwn, isSlice, ownBuffer } from '../utils/own-buffer.js';
import type { SseResponseChannel } from './sse-response-channel.js';

// The last chunk framed, so the recipients of one broadcast share one framed
// buffer; dropped once the event loop moves on, so that a big one is not kept.
let lastChunk: Buffer | undefined;
let lastFramed: Buffer | undefined;
let forgetScheduled = false;
const forget = () => {
  lastChunk = lastFramed = undefined;
  forgetScheduled = false;
};

/**
 * `chunk` as one HTTP/1.1 chunk (size line, data, CRLF): the bytes
 * `res.write(chunk)` would send. `queued`: it will wait in the socket's queue,
 * so it gets memory of its own (see own-buffer.ts).
 */
function chunked(chunk: Buffer, queued: boolean): Buffer {
  if (chunk !== lastChunk || (queued && isSlice(lastFramed!))) {
    const head = `${chunk.length.toString(16)}\r\n`;
    const length = head.length + chunk.length + 2;
    const framed = queued ? allocOwn(length) : Buffer.allocUnsafe(length);
    framed.write(head, 0, 'latin1');
    chunk.copy(framed, head.length);
    framed[length - 2] = 0x0d;
    framed[length - 1] = 0x0a;
    lastFramed = framed;
    lastChunk = chunk;
    if (!forgetScheduled) {
      forgetScheduled = true;
      setImmediate(forget);
    }
  }
  return lastFramed as Buffer;
}

type Wrapped = { __wrapped?: unknown; __original?: unknown };
const isWrapper = (fn: unknown): boolean =>
  typeof fn === 'function' && ((fn as Wrapped).__wrapped !== undefined || (fn as Wrapped).__original !== undefined);

// Node's own `write` as this module found it.
const NODE_WRITE = OutgoingMessage.prototype.write;

/**
 * True when something other than Node's own `write` runs for this response:
 * an APM agent or a compression middleware that wrapped it, on the response or
 * on a prototype (`ServerResponse.prototype`, Express's `app.response`), or on
 * `OutgoingMessage.prototype` after this module loaded; or a wrapper of
 * `OutgoingMessage.prototype.write` installed before, if it carries shimmer's
 * markers (`__wrapped`, `__original`, as OpenTelemetry and others set). Such a
 * response gets every chunk through `res.write()`, so the wrapper sees each
 * one. A plain wrapper of `OutgoingMessage.prototype.write` installed before
 * this module loaded cannot be told from Node's own: `directWrites: false`.
 */
export function isWriteInstrumented(response: ServerResponse): boolean {
  return response.write !== NODE_WRITE || isWrapper(NODE_WRITE);
}

/**
 * False once someone wrapped `write` on `ServerResponse.prototype` or
 * `OutgoingMessage.prototype` (an agent that loaded late): one load on one
 * object, cheap enough for every write. (A load on an Express response is
 * not: each has a hidden class of its own, so such loads run megamorphic, at
 * about a microsecond each; see bench/RESULTS.md.)
 */
const prototypesUnwrapped = (): boolean => ServerResponse.prototype.write === NODE_WRITE;

export class Http1Channel implements SseResponseChannel {
  readonly streamHeaders = { Connection: 'keep-alive' } as const;
  /** The socket chunks go to directly, until the response ends. */
  private socket: Socket | undefined;
  /** The response's socket once the stream has started: backpressure and liveness are read off it. */
  private streamSocket: Socket | undefined;
  /** Whether the direct path was considered yet (at the first write; never when direct writes are off). */
  private decided: boolean;
  private ended = false;
  private endListener: (() => void) | undefined;
  readonly highWaterMark: number;

  constructor(
    private readonly response: ServerResponse,
    directWrites: boolean,
  ) {
    this.decided = !directWrites;
    this.highWaterMark = response.writableHighWaterMark;
    // Emitted inside end(), whoever calls it (not once the last byte is out, as 'finish' is), and
    // once per response: `on`, which costs no wrapper per connection as `once` does.
    response.on('prefinish', () => {
      this.ended = true;
      this.socket = undefined;
      this.endListener?.();
    });
  }

  prepare(): void {
    const socket = this.response.socket;
    if (!socket) return;
    this.streamSocket = socket;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
  }

  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean {
    const socket = this.socket;
    if (socket !== undefined) {
      // Anything already waiting means this chunk waits too.
      if (!socket.destroyed && prototypesUnwrapped()) return socket.write(chunked(chunk, socket.writableLength > 0), callback);
      // Gone, or instrumented since: from now on every chunk goes through res.write().
      this.socket = undefined;
    }
    if (this.response.finished) return false;
    const queued = this.response.writableLength > 0;
    const belowHighWaterMark = this.response.write(queued ? ownBuffer(chunk) : chunk, callback);
    if (!this.decided) {
      this.decided = true;
      this.socket = isWriteInstrumented(this.response) ? undefined : directSocketOf(this.response);
    }
    return belowHighWaterMark;
  }

  get unsentBytes(): number {
    // Writing directly, nothing waits in the response itself; otherwise its writableLength is its own buffer plus its socket's.
    return this.socket !== undefined ? this.socket.writableLength : this.response.writableLength;
  }

  get sentBytes(): number {
    // Counted on the socket (earlier responses on it included: only its moving on matters).
    const socket = this.streamSocket;
    return socket ? socket.bytesWritten - socket.writableLength : 0;
  }

  get needsDrain(): boolean {
    return this.unsentBytes >= this.highWaterMark;
  }

  whenWritable(): Promise<void> {
    const socket = this.streamSocket;
    if (!socket || this.isFinished || !this.needsDrain) return Promise.resolve();
    // The socket's drain, not the response's: direct writes never arm the latter.
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  get isFinished(): boolean {
    const socket = this.streamSocket;
    // Once streaming: the end is known by its 'prefinish', and a response is destroyed with its socket,
    // the cheap one to ask (see prototypesUnwrapped).
    return socket !== undefined ? this.ended || socket.destroyed : this.response.finished || this.response.destroyed;
  }

  onEnd(listener: () => void): void {
    this.endListener = listener;
  }

  end(chunk?: Buffer): void {
    if (this.response.finished) return;
    // Through the response (which frames the terminating chunk); nothing of ours waits in it.
    if (chunk !== undefined) this.write(chunk);
    this.socket = undefined;
    this.response.end();
  }

  closeConnection(): void {
    const { response } = this;
    const socket = response.socket;
    if (!socket) return;
    // Before the head, Node closes the socket after the response by itself; after it, we do once it finished.
    if (!response.headersSent) response.setHeader('Connection', 'close');
    else response.once('finish', () => socket.end());
  }

  destroy(): void {
    this.response.destroy();
  }
}

/**
 * The socket an open stream may write its chunks to directly, or undefined.
 * Only for an HTTP/1.1 chunked response that owns its socket, whose head has
 * gone out and left nothing buffered in the response: there, writing the
 * framed chunk to the socket puts exactly the bytes `res.write` would on the wire.
 */
function directSocketOf(response: ServerResponse): Socket | undefined {
  const socket = response.socket;
  if (!socket || (response as { chunkedEncoding?: boolean }).chunkedEncoding !== true || !response.headersSent) return undefined;
  // A response's writableLength is its own buffer plus its socket's: equal means its own is empty.
  if (response.writableLength !== socket.writableLength) return undefined;
  return socket;
}
