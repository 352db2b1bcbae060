/**
 * Write coalescing: the frames a connection gets within one tick (the
 * synchronous run of a callback and the promise continuations it starts) reach
 * its socket in one write when the tick ends (process.nextTick: no later than
 * Node's own auto-cork of `res.write`), not one write each. A socket write is
 * the costly part of a send (on Express each `res.write()` also runs
 * megamorphic, see bench/RESULTS.md), so a burst of sends costs one write per
 * connection instead of one per frame.
 *
 * Nothing is allocated per recipient: each frame is appended once to a
 * journal of the tick, whatever the number of connections it goes to, and a
 * connection only notes the range of journal entries it got. Connections that
 * got the same range (a broadcast) share one concatenated chunk. A connection
 * that got frames others did not in between keeps its own list (the rare case).
 * Frames are whole buffers, so a keep-alive can never land inside one.
 */

/** Where an outbox's chunk goes: the connection, which writes it to its response. */
export interface SseOutboxSink {
  writeChunk(chunk: Buffer): void;
}

// The frames of the current tick, and the outboxes holding some, in the order
// they got their first frame. Swapped with spares at each flush.
let journal: Buffer[] = [];
let waiting: SseOutbox[] = [];
let spareJournal: Buffer[] = [];
let spareWaiting: SseOutbox[] = [];
let scheduled = false;

function flushTick(): void {
  scheduled = false;
  const frames = journal;
  const outboxes = waiting;
  // Frames queued while flushing (by code a write triggers) belong to the next tick.
  journal = spareJournal;
  waiting = spareWaiting;
  let shared: Map<number, Buffer> | undefined;
  for (let i = 0; i < outboxes.length; i++) {
    const outbox = outboxes[i];
    const range = outbox.rangeKey(frames);
    if (range === undefined) {
      outbox.flushWith(undefined);
      continue;
    }
    shared ??= new Map();
    let chunk = shared.get(range);
    if (chunk === undefined) shared.set(range, (chunk = outbox.chunk()));
    outbox.flushWith(chunk);
  }
  frames.length = 0;
  outboxes.length = 0;
  spareJournal = frames;
  spareWaiting = outboxes;
}

/** The frames of one connection waiting for the end of the tick. */
export class SseOutbox {
  // A range [first, last] of `source` (the journal of the tick it was filled in); first < 0 when empty.
  private first = -1;
  private last = -1;
  private source: Buffer[] = journal;
  /** Own frames, once they are not one run of the journal. */
  private own: Buffer[] | undefined;

  constructor(private readonly sink: SseOutboxSink) {}

  /** True when nothing waits for the end of the tick. */
  get isEmpty(): boolean {
    return this.first < 0;
  }

  /** Queues a frame; it goes out with the others of this tick, in order. */
  push(frame: Buffer): void {
    let index = journal.length - 1;
    // A broadcast pushes the same buffer for each recipient in a row: one journal entry.
    if (index < 0 || journal[index] !== frame) index = journal.push(frame) - 1;
    if (this.first < 0) {
      this.first = this.last = index;
      this.source = journal;
      waiting.push(this);
      if (!scheduled) {
        scheduled = true;
        process.nextTick(flushTick);
      }
    } else if (this.own) {
      this.own.push(frame);
    } else if (index === this.last + 1 && this.source === journal) {
      this.last = index;
    } else {
      // Not the next entry of the same journal: from now on it keeps its own list.
      this.own = this.source.slice(this.first, this.last + 1);
      this.own.push(frame);
    }
  }

  /** Writes what waits now rather than at the end of the tick (before an end, a replay, a ping). */
  flush(): void {
    if (this.first < 0) return;
    const chunk = this.own ? Buffer.concat(this.own) : this.chunk();
    this.reset();
    this.sink.writeChunk(chunk);
  }

  /** A key for the journal range this outbox holds, or undefined when it holds its own list. @internal */
  rangeKey(frames: readonly Buffer[]): number | undefined {
    if (this.first < 0 || this.own || this.source !== frames) return undefined;
    return this.first * frames.length + this.last;
  }

  /** Its journal range in one buffer (no copy for a single frame). @internal */
  chunk(): Buffer {
    return this.first === this.last
      ? this.source[this.first]
      : Buffer.concat(this.source.slice(this.first, this.last + 1));
  }

  /** Writes `shared` (the chunk of its range, from another outbox), or its own frames. @internal */
  flushWith(shared: Buffer | undefined): void {
    if (this.first < 0) return;
    if (shared === undefined) return this.flush();
    this.reset();
    this.sink.writeChunk(shared);
  }

  private reset(): void {
    this.first = -1;
    this.last = -1;
    this.own = undefined;
  }
}
