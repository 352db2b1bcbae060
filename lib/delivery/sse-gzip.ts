import { constants, deflateRawSync } from 'node:zlib';
import { crc32, crc32Combine, crc32ShiftOf } from '../utils/crc32.js';
import { allocOwn } from '../utils/own-buffer.js';

/**
 * Gzip for event streams, encode-once (RFC 1952 around RFC 1951): a chunk
 * (a tick's frames, a keep-alive) is compressed ONCE, whoever it goes to, into
 * self-contained deflate blocks ended by a full flush: no back-reference to
 * earlier chunks, so every recipient gets the same compressed bytes after its
 * own gzip header, whatever it received before. Each compressed chunk ends on
 * a byte boundary (the flush's empty stored block), which is what lets a
 * browser's gzip decoder hand over every event as soon as it arrives.
 *
 * What a stream keeps of its own is two numbers for the trailer: the CRC-32 of
 * the uncompressed bytes it was sent (each chunk's CRC combined into it in 32
 * steps, see crc32.ts) and their length.
 */

/** A chunk compressed once for all its recipients, with what a stream's trailer needs of it. */
export interface SseGzipBlock {
  /** Raw deflate blocks, ending with a full flush (`00 00 ff ff`). */
  readonly bytes: Buffer;
  /** CRC-32 of the uncompressed chunk. */
  readonly crc: number;
  /** `crc32ShiftOf(length)`: appends this chunk's CRC to a running one. */
  readonly shift: number;
  /** Uncompressed length. */
  readonly length: number;
}

/**
 * The 10-byte gzip member header every compressed stream starts with: deflate,
 * no name, no time, no extra flags, OS unknown (255).
 */
export const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

/**
 * A compressor sized to the chunk: a window no larger than the chunk (at least
 * 512 bytes) finds every match the full 32 KB window would, and zlib's state
 * (window plus hash table, about 256 KB at the defaults) shrinks to a few KB
 * for an event, which is faster to set up and leaves the allocator less to keep.
 */
function deflateOptions(length: number): { finishFlush: number; windowBits: number; memLevel: number } {
  const windowBits = Math.min(15, Math.max(9, 32 - Math.clz32(Math.max(1, length - 1))));
  // Z_FULL_FLUSH, not Z_FINISH: no final block, so the next chunk's blocks may follow.
  return { finishFlush: constants.Z_FULL_FLUSH, windowBits, memLevel: Math.min(8, Math.max(1, windowBits - 6)) };
}

/**
 * zlib hands back a slice of its 16 KB output buffer: a block kept with a
 * frame in history would hold all of it. One copy of the right size, once per block.
 */
function exact(bytes: Buffer): Buffer {
  const own = allocOwn(bytes.length);
  bytes.copy(own);
  return own;
}

// Keyed by the chunk buffer itself: a broadcast's recipients write the same
// buffer, and a frame kept in history is compressed once for every replay.
const blocks = new WeakMap<Buffer, SseGzipBlock>();

/** `chunk` compressed as self-contained deflate blocks: once per buffer, then the same block for everyone. */
export function gzipBlockOf(chunk: Buffer): SseGzipBlock {
  let block = blocks.get(chunk);
  if (block === undefined) {
    block = {
      bytes: exact(deflateRawSync(chunk, deflateOptions(chunk.length))),
      crc: crc32(chunk),
      shift: crc32ShiftOf(chunk.length),
      length: chunk.length,
    };
    blocks.set(chunk, block);
  }
  return block;
}

/**
 * What one compressed stream has sent, for its trailer: a running CRC-32 and
 * length of the uncompressed bytes.
 */
export class SseGzipTally {
  private crc = 0;
  private size = 0;

  /** Counts a block this stream was sent. */
  add(block: SseGzipBlock): void {
    this.crc = crc32Combine(this.crc, block.crc, block.shift);
    // ISIZE is the length modulo 2^32.
    this.size = (this.size + block.length) >>> 0;
  }

  /** The end of the stream: a final empty deflate block (`03 00`), then CRC-32 and ISIZE, little-endian. */
  trailer(): Buffer {
    const end = Buffer.allocUnsafe(10);
    end[0] = 0x03;
    end[1] = 0x00;
    end.writeUInt32LE(this.crc, 2);
    end.writeUInt32LE(this.size, 6);
    return end;
  }
}
