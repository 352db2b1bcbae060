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

/**
 * True when something other than Node's own `write` runs for this response:
 * an APM agent or a compression middleware that wrapped it (on the instance
 * or on a prototype, possibly before this module loaded: Node's own lives on
 * `OutgoingMessage.prototype`, so anything on `ServerResponse.prototype` is
 * someone's), or a wrapper carrying shimmer's markers (`__wrapped`,
 * `__original`, as OpenTelemetry and others set). Such a response gets every
 * chunk through `res.write()`, so the wrapper sees each one.
 */
export function isWriteInstrumented(response: ServerResponse): boolean {
  const own = OutgoingMessage.prototype.write;
  return response.write !== own || Object.hasOwn(ServerResponse.prototype, 'write') || isWrapper(own);
}

/**
 * HTTP/1.1. The first chunk goes through `res.write()` (it carries the head);
 * later ones, where `directSocketOf` allows, straight to the socket, framed
 * once per chunk and shared by its recipients. Why: Express swaps the
 * prototype of every response, which gives each its own hidden class, so
 * Node's `res.write()` runs megamorphic and costs several times a plain
 * node:http write (bench/RESULTS.md); a socket write does not.
 *
 * Before every direct write the response must still own its socket and not
 * have ended (e.g. ended by an exception filter): otherwise bytes would follow
 * the terminating chunk and corrupt the next response on that keep-alive
 * socket. Backpressure is read off the socket either way, so `write`'s answer
 * and `whenWritable()` are true on both paths.
 */
export class Http1Channel implements SseResponseChannel {
  readonly streamHeaders = { Connection: 'keep-alive' } as const;
  private socket: Socket | undefined;
  private decided: boolean;

  constructor(
    private readonly response: ServerResponse,
    directWrites: boolean,
  ) {
    // Decided at the first write, unless direct writes are off or someone wraps `write`.
    this.decided = !directWrites || isWriteInstrumented(response);
  }

  prepare(): void {
    const socket = this.response.socket;
    if (!socket) return;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
  }

  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean {
    const socket = this.socket;
    if (socket !== undefined) {
      // Anything already waiting means this chunk waits too.
      if (this.owns(socket)) return socket.write(chunked(chunk, socket.writableLength > 0), callback);
      // No longer ours: from now on Node decides (a no-op or an error once ended).
      this.socket = undefined;
    }
    if (this.response.finished) return false;
    const queued = this.response.writableLength > 0;
    const belowHighWaterMark = this.response.write(queued ? ownBuffer(chunk) : chunk, callback);
    if (!this.decided) {
      this.decided = true;
      this.socket = directSocketOf(this.response);
    }
    return belowHighWaterMark;
  }

  get highWaterMark(): number {
    return this.response.writableHighWaterMark;
  }

  get unsentBytes(): number {
    // A response's writableLength is its own buffer plus its socket's.
    return this.response.writableLength;
  }

  get needsDrain(): boolean {
    return this.response.writableLength >= this.highWaterMark;
  }

  whenWritable(): Promise<void> {
    const socket = this.response.socket;
    if (!this.needsDrain || !socket || this.isFinished) return Promise.resolve();
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
    return this.response.finished || this.response.destroyed;
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

  private owns(socket: Socket): boolean {
    return !this.response.finished && this.response.socket === socket && !socket.destroyed;
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
