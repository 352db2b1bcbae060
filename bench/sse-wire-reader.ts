/**
 * The load generator's client side of one connection, kept lean so that one
 * process can read 10,000 streams and still outrun the server under test: it
 * parses the response head, undoes chunked transfer encoding and reads just
 * enough of the SSE format to see each bench event (`data: #<seq>;<µs>;…`
 * then a blank line). Other frames (sse.open, keep-alives, ids, event names)
 * are read and ignored.
 */

const CR = 13;
const LF = 10;
const SPACE = 32;
const HASH = 35;
const SEMICOLON = 59;
const COLON = 58;
const ZERO = 48;
const D = 100;
const A = 97;
const I = 105;

/** What a reader reports to whoever counts events. */
export interface WireSink {
  /** A bench event was dispatched: its sequence number and emit time (µs). */
  event(reader: SseWireReader, seq: number, emittedMicros: number): void;
  /** The response head arrived (status and whether the stream looks like SSE). */
  head(reader: SseWireReader, status: number, isEventStream: boolean): void;
}

type State = 'head' | 'size' | 'data' | 'crlf' | 'raw' | 'done';

export class SseWireReader {
  /** Next sequence number this client should see. */
  expectedSeq = 0;
  received = 0;
  outOfOrder = 0;
  /** Read `id:` lines too (off by default: a string per event). */
  trackIds = false;
  /** The id of the last event dispatched, when `trackIds` (what a reconnect sends as `Last-Event-ID`). */
  lastEventId: string | undefined;
  private pendingId: string | undefined;
  private state: State = 'head';
  private headText = '';
  private sizeText = '';
  private chunkLeft = 0;
  private crlfLeft = 0;
  private carry: Buffer | undefined;
  private pendingSeq = -1;
  private pendingEmitted = 0;

  constructor(private readonly sink: WireSink) {}

  /** Feeds one read from the socket. */
  feed(buffer: Buffer): void {
    let offset = 0;
    const length = buffer.length;
    while (offset < length) {
      switch (this.state) {
        case 'head': {
          const text = buffer.toString('latin1', offset, length);
          const all = this.headText + text;
          const end = all.indexOf('\r\n\r\n');
          if (end === -1) {
            this.headText = all;
            return;
          }
          this.onHead(all.slice(0, end));
          // Continue right after the head, in buffer coordinates.
          offset += end + 4 - this.headText.length;
          this.headText = '';
          break;
        }
        case 'size': {
          const newline = buffer.indexOf(LF, offset);
          if (newline === -1) {
            this.sizeText += buffer.toString('latin1', offset, length);
            return;
          }
          this.sizeText += buffer.toString('latin1', offset, newline);
          offset = newline + 1;
          const size = parseInt(this.sizeText, 16);
          this.sizeText = '';
          if (size === 0) {
            this.state = 'done';
            return;
          }
          this.chunkLeft = size;
          this.state = 'data';
          break;
        }
        case 'data': {
          const end = Math.min(length, offset + this.chunkLeft);
          this.body(buffer, offset, end);
          this.chunkLeft -= end - offset;
          offset = end;
          if (this.chunkLeft === 0) {
            this.state = 'crlf';
            this.crlfLeft = 2;
          }
          break;
        }
        case 'crlf': {
          while (this.crlfLeft > 0 && offset < length) {
            const byte = buffer[offset++];
            if (byte !== CR && byte !== LF) throw new Error('bad chunk terminator');
            this.crlfLeft--;
          }
          if (this.crlfLeft === 0) this.state = 'size';
          break;
        }
        case 'raw':
          this.body(buffer, offset, length);
          return;
        case 'done':
          return;
      }
    }
  }

  private onHead(head: string): void {
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const isEventStream = lower.includes('content-type: text/event-stream');
    this.state = lower.includes('transfer-encoding: chunked') ? 'size' : 'raw';
    this.sink.head(this, status, isEventStream);
  }

  /**
   * SSE lines, read as bytes (no string per read: the load generator must
   * outrun the fastest server); an event is dispatched at the blank line that
   * ends it. A line cut by a read or chunk boundary waits in `carry`.
   */
  private body(buffer: Buffer, start: number, end: number): void {
    if (this.carry) {
      buffer = Buffer.concat([this.carry, buffer.subarray(start, end)]);
      start = 0;
      end = buffer.length;
      this.carry = undefined;
    }
    let line = start;
    while (line < end) {
      const newline = buffer.indexOf(LF, line);
      if (newline === -1 || newline >= end) break;
      if (newline === line) {
        if (this.pendingSeq >= 0) this.dispatch();
      } else if (newline - line > 6 && buffer[line] === D && buffer[line + 1] === A && buffer[line + 4] === COLON) {
        // `data:` then one optional space (better-sse writes none), then `#<seq>;<µs>;`.
        let at = buffer[line + 5] === SPACE ? line + 6 : line + 5;
        if (buffer[at] === HASH) {
          let seq = 0;
          for (at++; buffer[at] !== SEMICOLON; at++) seq = seq * 10 + buffer[at] - ZERO;
          let emitted = 0;
          for (at++; buffer[at] !== SEMICOLON; at++) emitted = emitted * 10 + buffer[at] - ZERO;
          this.pendingSeq = seq;
          this.pendingEmitted = emitted;
        }
      } else if (this.trackIds && newline - line > 3 && buffer[line] === I && buffer[line + 1] === D && buffer[line + 2] === COLON) {
        const from = buffer[line + 3] === SPACE ? line + 4 : line + 3;
        this.pendingId = buffer.toString('latin1', from, buffer[newline - 1] === CR ? newline - 1 : newline);
      }
      line = newline + 1;
    }
    if (line < end) this.carry = Buffer.from(buffer.subarray(line, end));
  }

  private dispatch(): void {
    const seq = this.pendingSeq;
    this.pendingSeq = -1;
    if (seq !== this.expectedSeq) this.outOfOrder++;
    this.expectedSeq = seq + 1;
    this.received++;
    if (this.pendingId !== undefined) this.lastEventId = this.pendingId;
    this.pendingId = undefined;
    this.sink.event(this, seq, this.pendingEmitted);
  }
}
