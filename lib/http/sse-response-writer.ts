import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const CRLF = Buffer.from('\r\n');

// The last chunk framed, so the recipients of one broadcast share one framed
// buffer; dropped once the event loop moves on, so that a big one is not kept.
let lastChunk: Buffer | undefined;
let lastFramed: Buffer | undefined;
let forgetScheduled = false;
const forget = () => {
  lastChunk = lastFramed = undefined;
  forgetScheduled = false;
};

/** `chunk` as one HTTP/1.1 chunk (size line, data, CRLF): the bytes `res.write(chunk)` would send. */
function chunked(chunk: Buffer): Buffer {
  if (chunk !== lastChunk) {
    lastFramed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]);
    lastChunk = chunk;
    if (!forgetScheduled) {
      forgetScheduled = true;
      setImmediate(forget);
    }
  }
  return lastFramed as Buffer;
}

/**
 * The socket an open stream may write its chunks to directly, or undefined.
 * Only for an HTTP/1.1 chunked response that owns its socket, whose head has
 * gone out and left nothing buffered in the response, and whose `write` is
 * Node's own (not wrapped, e.g. by compression): there, writing the framed
 * chunk to the socket puts exactly the bytes `res.write` would on the wire.
 */
function directSocketOf(response: ServerResponse): Socket | undefined {
  const socket = response.socket;
  if (!socket || (response as { chunkedEncoding?: boolean }).chunkedEncoding !== true) return undefined;
  if (response.write !== ServerResponse.prototype.write || !response.headersSent) return undefined;
  // A response's writableLength is its own buffer plus its socket's: equal means its own is empty.
  if (response.writableLength !== socket.writableLength) return undefined;
  return socket;
}

/**
 * Writes a stream's chunks. The first goes through `res.write()` (it carries
 * the head); the later ones, where `directSocketOf` allows, straight to the
 * socket, framed once per chunk and shared by its recipients. Why: Express
 * swaps the prototype of every response, which gives each its own hidden
 * class, so Node's `res.write()` code runs megamorphic and costs several times
 * a plain node:http write (bench/RESULTS.md); a socket write does not.
 */
export class SseResponseWriter {
  private socket: Socket | undefined;
  private decided = false;

  constructor(private readonly response: ServerResponse) {}

  /** Writes one chunk; false when the unsent bytes are past the high-water mark. */
  write(chunk: Buffer): boolean {
    if (this.socket) return this.socket.write(chunked(chunk));
    const belowHighWaterMark = this.response.write(chunk);
    if (!this.decided) {
      this.decided = true;
      this.socket = directSocketOf(this.response);
    }
    return belowHighWaterMark;
  }
}
