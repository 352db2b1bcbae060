import { setImmediate as nextTurn } from 'node:timers/promises';
import { SseOutbox, type SseOutboxSink } from '../../lib/delivery/sse-outbox.js';

/** A sink that records every chunk it is given, like a response would receive them. */
class RecordingSink implements SseOutboxSink {
  readonly chunks: Buffer[] = [];
  writeChunk(chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  get text(): string[] {
    return this.chunks.map((chunk) => chunk.toString());
  }
}

const frame = (text: string) => Buffer.from(text);

describe('SseOutbox (write coalescing)', () => {
  it('writes nothing before the end of the tick, then all frames of the tick in one chunk, in order', async () => {
    const sink = new RecordingSink();
    const outbox = new SseOutbox(sink);
    outbox.push(frame('a'));
    outbox.push(frame('b'));
    outbox.push(frame('c'));
    expect(sink.chunks).toHaveLength(0);
    expect(outbox.isEmpty).toBe(false);
    await nextTurn();
    expect(sink.text).toEqual(['abc']);
    expect(outbox.isEmpty).toBe(true);
  });

  it('gives every recipient of the same frames the same chunk (no copy per recipient)', async () => {
    const sinks = Array.from({ length: 5 }, () => new RecordingSink());
    const outboxes = sinks.map((sink) => new SseOutbox(sink));
    for (const text of ['1', '2', '3']) {
      const shared = frame(text);
      for (const outbox of outboxes) outbox.push(shared);
    }
    await nextTurn();
    for (const sink of sinks) expect(sink.text).toEqual(['123']);
    expect(new Set(sinks.map((sink) => sink.chunks[0])).size).toBe(1);
  });

  it('writes a single frame as it is', async () => {
    const sink = new RecordingSink();
    const only = frame('only');
    new SseOutbox(sink).push(only);
    await nextTurn();
    expect(sink.chunks[0]).toBe(only);
  });

  it('keeps each connection exact when they get different frames interleaved', async () => {
    const [all, odd, even] = [new RecordingSink(), new RecordingSink(), new RecordingSink()];
    const [toAll, toOdd, toEven] = [all, odd, even].map((sink) => new SseOutbox(sink));
    for (let i = 0; i < 6; i++) {
      const shared = frame(String(i));
      toAll.push(shared);
      (i % 2 ? toOdd : toEven).push(shared);
    }
    const last = frame('!');
    toAll.push(last);
    toOdd.push(last);
    toEven.push(last);
    await nextTurn();
    expect(all.text).toEqual(['012345!']);
    expect(odd.text).toEqual(['135!']);
    expect(even.text).toEqual(['024!']);
  });

  it('counts the same frame pushed twice to one connection twice', async () => {
    const sink = new RecordingSink();
    const outbox = new SseOutbox(sink);
    const ping = frame('p');
    outbox.push(ping);
    outbox.push(ping);
    await nextTurn();
    expect(sink.text).toEqual(['pp']);
  });

  it('flush() writes at once what waits, and the end of the tick writes only what came after', async () => {
    const sink = new RecordingSink();
    const outbox = new SseOutbox(sink);
    outbox.push(frame('a'));
    outbox.flush();
    expect(sink.text).toEqual(['a']);
    outbox.push(frame('b'));
    await nextTurn();
    expect(sink.text).toEqual(['a', 'b']);
    outbox.flush();
    expect(sink.text).toEqual(['a', 'b']);
  });

  it('keeps order when a write pushes more frames while the tick is being flushed', async () => {
    const later = new RecordingSink();
    const laterOutbox = new SseOutbox(later);
    // The first connection's write sends to a connection not yet flushed in this tick.
    const first = new SseOutbox({
      writeChunk(chunk) {
        expect(later.chunks).toHaveLength(0);
        laterOutbox.push(frame('+'));
        firstChunks.push(chunk.toString());
      },
    });
    const firstChunks: string[] = [];
    const shared = frame('x');
    first.push(shared);
    laterOutbox.push(shared);
    await nextTurn();
    expect(firstChunks).toEqual(['x']);
    expect(later.text).toEqual(['x+']);
  });
});
