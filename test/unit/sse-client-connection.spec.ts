import { SseClientConnection, type SseConnectionServices } from '../../lib/connection/sse-client-connection.js';
import { SseBufferBudget } from '../../lib/connection/sse-buffer-budget.js';
import { SseSettings } from '../../lib/config/sse-settings.js';
import { SseCounters } from '../../lib/delivery/sse-counters.js';
import type { SsePublisher } from '../../lib/delivery/sse-publisher.js';
import type { SseExchange } from '../../lib/http/sse-exchange.js';
import type { SseResponseChannel } from '../../lib/http/sse-response-channel.js';
import { SseConnectionClosedError } from '../../lib/errors/index.js';

/** A response channel that records what reaches it; the test decides what its socket would answer. */
class RecordingChannel implements SseResponseChannel {
  readonly streamHeaders = {};
  readonly highWaterMark = 1024;
  readonly chunks: string[] = [];
  unsentBytes = 0;
  sentBytes = 0;
  /** What write() answers: false once the "socket" is past its high-water mark. */
  writable = true;
  ended = false;
  destroyed = false;
  closedConnection = false;
  private endListener: (() => void) | undefined;
  private drained: (() => void)[] = [];
  prepare(): void {}
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk.toString());
    if (!this.writable) this.unsentBytes += chunk.length;
    return this.writable;
  }
  get needsDrain(): boolean {
    return !this.writable;
  }
  whenWritable(): Promise<void> {
    return this.writable ? Promise.resolve() : new Promise((resolve) => this.drained.push(resolve));
  }
  get isFinished(): boolean {
    return this.ended || this.destroyed;
  }
  onEnd(listener: () => void): void {
    this.endListener = listener;
  }
  end(): void {
    this.ended = true;
    this.endListener?.();
  }
  closeConnection(): void {
    this.closedConnection = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** Its client read everything. */
  drain(): void {
    this.writable = true;
    this.unsentBytes = 0;
    for (const resolve of this.drained.splice(0)) resolve();
  }
  /** Someone else (an exception filter) ended the response. */
  endedByOthers(): void {
    this.end();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/** The outbox writes once per tick (process.nextTick). */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function connect(options: { scope?: 'global' | 'local'; maxBufferedBytes?: number; isGone?: boolean } = {}) {
  const channel = new RecordingChannel();
  const heads: Record<string, string>[] = [];
  const exchange = {
    channel,
    onClose: () => undefined,
    isGone: options.isGone ?? false,
    writeHead: (headers: Record<string, string>) => heads.push(headers),
  } as unknown as SseExchange;
  const settings = new SseSettings({});
  const counters = new SseCounters(settings);
  const calls: string[] = [];
  const services: SseConnectionServices = {
    hooks: {
      opened: () => calls.push('opened'),
      closed: () => calls.push('closed'),
      regrouped: async () => undefined,
      stopping: () => 'stop-token',
    },
    counters,
    publisher: {} as SsePublisher,
    budget: new SseBufferBudget(settings, counters),
  };
  const identity = {
    name: 'feed',
    groups: ['a', 'b c'],
    user: 'u1',
    clientId: 'c1',
    scope: options.scope ?? ('global' as const),
    lastEventId: undefined,
  };
  const connectionSettings = {
    retry: 3000,
    reconnectSpread: 0,
    allowAllOrigins: false,
    maxBufferedBytes: options.maxBufferedBytes ?? 1 << 20,
    maxEventBytes: undefined,
  };
  const connection = new SseClientConnection(identity, exchange, connectionSettings, services);
  return { connection, channel, heads, calls, counters };
}

describe('SseClientConnection', () => {
  it('opens with its head and sse.open (groups in join order, the first as group, the user), then registers', async () => {
    const { connection, channel, heads, calls } = connect();
    connection.open();
    connection.open(); // idempotent
    await tick();
    expect(heads).toHaveLength(1);
    expect(heads[0]).toMatchObject({ 'Content-Type': 'text/event-stream', 'X-Sse-Client-Id': 'c1', 'X-Sse-Name': 'feed', 'X-Sse-Group': 'a,b%20c' });
    expect(channel.text).toBe(
      'retry: 3000\nevent: sse.open\ndata: {"clientId":"c1","name":"feed","group":"a","groups":["a","b c"],"user":"u1"}\n\n',
    );
    expect(calls).toEqual(['opened']);
    expect(connection.isOpen).toBe(true);
  });

  it('never opens on a request whose client already left', () => {
    const { connection, heads, calls } = connect({ isGone: true });
    connection.open();
    expect({ heads, calls, closed: connection.isClosed }).toEqual({ heads: [], calls: [], closed: true });
  });

  it('joins the frames of one tick into one write', async () => {
    const { connection, channel } = connect({ scope: 'local' });
    connection.open();
    await tick();
    channel.chunks.length = 0;
    await connection.send({ data: 'one' });
    await connection.send([{ data: 'two', id: '2' }, { event: 'x', data: 'three' }]);
    expect(channel.chunks).toEqual([]);
    await tick();
    expect(channel.chunks).toEqual(['data: one\n\nid: 2\ndata: two\n\nevent: x\ndata: three\n\n']);
  });

  it('a write opens a pending connection first', async () => {
    const { connection, channel, calls } = connect({ scope: 'local' });
    await connection.send({ data: 'first' });
    await tick();
    expect(channel.text.startsWith('retry: 3000\nevent: sse.open\n')).toBe(true);
    expect(channel.text.endsWith('data: first\n\n')).toBe(true);
    expect(calls).toEqual(['opened']);
  });

  it('close() writes sse.close after what waits, ends the response, closes once and tells its listeners once', async () => {
    const { connection, channel, calls } = connect({ scope: 'local' });
    let told = 0;
    connection.onClose(() => told++);
    connection.open();
    await connection.send({ data: 'last words' });
    await connection.close();
    await connection.close();
    expect(channel.text).toMatch(/data: last words\n\n(retry: \d+\n)?event: sse\.close\ndata: \{"reason":"server"\}\n\n$/);
    expect({ ended: channel.ended, closed: connection.isClosed, calls, told }).toEqual({ ended: true, closed: true, calls: ['opened', 'closed'], told: 1 });
    // A listener added after the close runs at once.
    connection.onClose(() => told++);
    expect(told).toBe(2);
  });

  it('close({ reconnect: false }) sends the stop token as the frame id, with "reconnect":false', async () => {
    const { connection, channel } = connect({ scope: 'local' });
    connection.open();
    await connection.close({ reconnect: false });
    expect(channel.text).toContain('id: stop-token\nevent: sse.close\ndata: {"reason":"server","reconnect":false}\n\n');
  });

  it('an end by someone else closes it at once: nothing more is written, sends reject, no sse.close on top', async () => {
    const { connection, channel, calls } = connect({ scope: 'local' });
    connection.open();
    await tick();
    const before = channel.chunks.length;
    channel.endedByOthers();
    expect(connection.isClosed).toBe(true);
    expect(calls).toEqual(['opened', 'closed']);
    await expect(connection.send({ data: 'too late' })).rejects.toBeInstanceOf(SseConnectionClosedError);
    connection.end('server');
    connection.fail('boom');
    await tick();
    expect(channel.chunks.length).toBe(before);
  });

  it('a client past maxBufferedBytes is cut off, without an sse.close it could not read, and counted as slow', async () => {
    const { connection, channel, counters } = connect({ scope: 'local', maxBufferedBytes: 4096 });
    connection.open();
    await tick();
    channel.writable = false;
    await connection.send({ data: 'x'.repeat(3000) });
    await tick();
    expect(connection.isOpen).toBe(true);
    await connection.send({ data: 'y'.repeat(3000) });
    await tick();
    expect({ destroyed: channel.destroyed, ended: channel.ended, closed: connection.isClosed }).toEqual({ destroyed: true, ended: false, closed: true });
    expect(channel.text).not.toContain('sse.close');
    expect(counters.snapshot().slowClientDisconnects).toBe(1);
  });

  it('whenWritable() paces a producer until its client drained, and lets go when the connection closes meanwhile', async () => {
    const { connection, channel } = connect({ scope: 'local' });
    connection.open();
    await tick();
    channel.writable = false;
    await connection.send({ data: 'x'.repeat(2000) });
    await tick();
    let paced = false;
    const waiting = connection.whenWritable().then(() => (paced = true));
    await tick();
    expect(paced).toBe(false);
    channel.drain();
    await tick();
    expect(paced).toBe(true);
    await waiting;

    channel.writable = false;
    await connection.send({ data: 'x'.repeat(2000) });
    await tick();
    let released = false;
    const stuck = connection.whenWritable().then(() => (released = true));
    await tick();
    expect(released).toBe(false);
    channel.endedByOthers(); // never drains
    await tick();
    expect(released).toBe(true);
    await stuck;
  });

  it('fail() sends sse.error with the message only and ends', async () => {
    const { connection, channel } = connect({ scope: 'local' });
    connection.open();
    connection.fail('the feed is gone');
    expect(channel.text).toMatch(/event: sse\.error\ndata: \{"message":"the feed is gone"\}\n\n$/);
    expect({ ended: channel.ended, closed: connection.isClosed }).toEqual({ ended: true, closed: true });
  });

  it('after a replay read apart from the live feed, skips the live events the replay already wrote, then writes all', async () => {
    const { connection, channel } = connect();
    const frame = (n: number) => Buffer.from(`id: ${n}\ndata: ${n}\n\n`);
    const send = (...numbers: number[]) => ({
      ids: numbers.map(String),
      frames: numbers.map(frame),
      frame: Buffer.concat(numbers.map(frame)),
      orders: numbers.map((n) => `1-${n}`),
    });
    connection.open();
    // The replay wrote 2 and 3 (read up to 1-3); the feed, behind, brings 2 and 3 again, then 4.
    connection.resume({ lostTopics: [], oldestAvailableId: '2', frames: [frame(2), frame(3)], covers: (order) => Number(order.slice(2)) <= 3 }, '1');
    connection.writeLive(send(2));
    connection.writeLive(send(3, 4));
    connection.writeLive(send(5));
    await tick();
    const data = channel.text.split('\n').filter((line) => line.startsWith('data: ') && !line.includes('{'));
    expect(data).toEqual(['data: 2', 'data: 3', 'data: 4', 'data: 5']);
  });

  it('discard() drops a pending connection without a byte, so the framework can answer with an error status', () => {
    const { connection, channel, heads, calls } = connect();
    connection.discard();
    expect({ chunks: channel.chunks, heads, calls, closed: connection.isClosed }).toEqual({ chunks: [], heads: [], calls: [], closed: true });
  });
});
