import fc from 'fast-check';
import { constants, createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { crc32, crc32Combine, crc32ShiftOf } from '../../lib/utils/crc32.js';
import { GZIP_HEADER, gzipBlockOf, SseGzipTally } from '../../lib/delivery/sse-gzip.js';
import { GzipChannel } from '../../lib/http/gzip.channel.js';
import { acceptsGzip } from '../../lib/http/sse-request-checks.js';
import type { SseResponseChannel } from '../../lib/http/sse-response-channel.js';
import { parseSse } from '../support/sse-parser.js';

const bytes = fc.uint8Array({ maxLength: 3000 }).map((array) => Buffer.from(array));

/** zlib's own CRC-32 of `data`: the one its gzip trailer carries. */
const zlibCrc = (data: Uint8Array) => {
  const gzipped = gzipSync(data);
  return gzipped.readUInt32LE(gzipped.length - 8);
};

/** A gzip stream as a compressed connection writes it: header, each chunk's block, trailer. */
function gzipStream(chunks: Buffer[]): Buffer {
  const tally = new SseGzipTally();
  const parts: Buffer[] = [GZIP_HEADER];
  for (const chunk of chunks) {
    const block = gzipBlockOf(chunk);
    tally.add(block);
    parts.push(block.bytes);
  }
  return Buffer.concat([...parts, tally.trailer()]);
}

describe('CRC-32 in JavaScript', () => {
  it("agrees with zlib's (the gzip trailer's) on any bytes", () => {
    fc.assert(fc.property(bytes, (data) => crc32(data) === zlibCrc(data)));
  });

  it('combines the CRCs of two parts into the CRC of the whole, without the bytes', () => {
    fc.assert(
      fc.property(bytes, bytes, (a, b) => crc32Combine(crc32(a), crc32(b), crc32ShiftOf(b.length)) === crc32(Buffer.concat([a, b]))),
    );
  });
});

describe('gzip blocks (sse-gzip)', () => {
  it('compresses a chunk once: every recipient of the same buffer gets the same block', () => {
    const frame = Buffer.from('data: {"price":1}\n\n');
    expect(gzipBlockOf(frame)).toBe(gzipBlockOf(frame));
    expect(gzipBlockOf(frame).bytes.subarray(-4)).toEqual(Buffer.from([0x00, 0x00, 0xff, 0xff]));
  });

  it('makes a valid gzip member of any sequence of chunks (CRC and length checked by gunzip)', () => {
    fc.assert(
      fc.property(fc.array(bytes, { maxLength: 8 }), (chunks) => gunzipSync(gzipStream(chunks)).equals(Buffer.concat(chunks))),
    );
  });

  it('gives the same block to streams that received different chunks before (no back-reference)', () => {
    const shared = Buffer.from('data: {"symbol":"ACME","price":101.5}\n\n');
    const first = gzipStream([Buffer.from('event: sse.open\ndata: {"clientId":"a"}\n\n'), shared]);
    const second = gzipStream([Buffer.from('data: something else entirely\n\n'), shared]);
    expect(gunzipSync(first).toString()).toContain('ACME');
    expect(gunzipSync(second).toString()).toContain('ACME');
  });

  it('lets a streaming gunzip hand over each chunk as soon as its block arrives (a flush per write)', async () => {
    const gunzip = createGunzip({ flush: constants.Z_SYNC_FLUSH });
    const received: string[] = [];
    gunzip.on('data', (data: Buffer) => received.push(data.toString()));
    const events = ['data: one\n\n', 'data: two\n\n', 'data: three\n\n'];
    gunzip.write(GZIP_HEADER);
    for (const [i, event] of events.entries()) {
      gunzip.write(gzipBlockOf(Buffer.from(event)).bytes);
      // The next block is not written before this event has come out whole.
      await new Promise<void>((resolve, reject) => {
        const check = () => (parseSse(received.join('')).events.length === i + 1 ? resolve() : undefined);
        gunzip.on('data', check);
        gunzip.once('error', reject);
        check();
      });
    }
    expect(parseSse(received.join('')).events.map((event) => event.data)).toEqual(['one', 'two', 'three']);
    gunzip.destroy();
  });
});

/** A channel that records what it is given. */
class RecordingChannel implements SseResponseChannel {
  readonly streamHeaders = { Connection: 'keep-alive' };
  readonly written: Buffer[] = [];
  ended = false;
  readonly highWaterMark = 16384;
  readonly unsentBytes = 0;
  readonly sentBytes = 0;
  readonly needsDrain = false;
  prepare(): void {}
  write(chunk: Buffer): boolean {
    this.written.push(chunk);
    return true;
  }
  whenWritable(): Promise<void> {
    return Promise.resolve();
  }
  get isFinished(): boolean {
    return this.ended;
  }
  onEnd(): void {}
  end(chunk?: Buffer): void {
    if (chunk) this.written.push(chunk);
    this.ended = true;
  }
  closeConnection(): void {}
  destroy(): void {}
}

describe('GzipChannel', () => {
  it('adds Content-Encoding to the head, starts with the gzip header and ends with the trailer', () => {
    const inner = new RecordingChannel();
    const channel = new GzipChannel(inner);
    expect(channel.streamHeaders).toEqual({ Connection: 'keep-alive', 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    channel.write(Buffer.from('event: sse.open\ndata: {}\n\n'));
    channel.write(Buffer.from(': ping\n\n'));
    channel.end(Buffer.from('event: sse.close\ndata: {"reason":"server"}\n\n'));
    expect(inner.written[0].subarray(0, 10)).toEqual(GZIP_HEADER);
    expect(gunzipSync(Buffer.concat(inner.written)).toString()).toBe(
      'event: sse.open\ndata: {}\n\n: ping\n\nevent: sse.close\ndata: {"reason":"server"}\n\n',
    );
  });

  it('writes the shared block of a broadcast to every recipient (no compression per connection)', () => {
    const recipients = [new RecordingChannel(), new RecordingChannel()];
    const channels = recipients.map((inner) => new GzipChannel(inner));
    for (const [i, channel] of channels.entries()) channel.write(Buffer.from(`event: sse.open\ndata: {"clientId":"${i}"}\n\n`));
    const broadcast = Buffer.from('data: {"price":1}\n\n');
    for (const channel of channels) channel.write(broadcast);
    expect(recipients[0].written[1]).toBe(recipients[1].written[1]);
  });

  it('ends a stream that never wrote as a whole, empty gzip member', () => {
    const inner = new RecordingChannel();
    new GzipChannel(inner).end();
    expect(gunzipSync(Buffer.concat(inner.written)).length).toBe(0);
  });
});

describe('acceptsGzip (Accept-Encoding, RFC 9110 §12.5.3)', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', true],
    ['x-gzip', true],
    ['GZIP', true],
    ['identity', false],
    ['br', false],
    ['gzip;q=0', false],
    ['*', true],
    ['*;q=0', false],
    ['*, gzip;q=0', false],
    ['gzip;q=0, *', false],
  ])('%p → %p', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('gzip block memory', () => {
  it('holds exactly its compressed bytes, not the 16 KB buffer zlib wrote them in (blocks live as long as history frames)', () => {
    const block = gzipBlockOf(Buffer.from('data: {"price":1}\n\n'));
    expect(block.bytes.buffer.byteLength).toBe(block.bytes.length);
  });
});
