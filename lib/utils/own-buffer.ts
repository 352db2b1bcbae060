/**
 * Small buffers (Buffer.from, Buffer.concat under 4 KiB) are slices of Node's
 * shared 8 KiB pool, and a slice keeps its whole pool block alive: a queue of
 * 1 KiB slices can hold several times its length in memory. Chunks that are
 * about to wait in a socket's queue are copied into buffers of their own
 * here, so that the unsent bytes the memory budget counts are the bytes held.
 */

// The last chunk copied, so the recipients of one broadcast that are behind
// share one copy; forgotten once the event loop moves on.
let lastSource: Buffer | undefined;
let lastCopy: Buffer | undefined;
let forgetScheduled = false;
const forget = () => {
  lastSource = lastCopy = undefined;
  forgetScheduled = false;
};

/** True when `buffer` shares its memory with others (a pool slice, or a part of a larger buffer). */
export const isSlice = (buffer: Buffer): boolean => buffer.byteLength !== buffer.buffer.byteLength;

/** A buffer of exactly `length` bytes that shares its memory with nothing. */
export const allocOwn = (length: number): Buffer => Buffer.allocUnsafeSlow(length);

/** `chunk` itself when it owns its memory, else a copy that does (one per chunk, shared while the tick lasts). */
export function ownBuffer(chunk: Buffer): Buffer {
  if (!isSlice(chunk)) return chunk;
  if (chunk !== lastSource) {
    lastCopy = allocOwn(chunk.length);
    chunk.copy(lastCopy);
    lastSource = chunk;
    if (!forgetScheduled) {
      forgetScheduled = true;
      setImmediate(forget);
    }
  }
  return lastCopy as Buffer;
}
