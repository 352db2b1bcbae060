import { SseClientConnection, type SseConnectionServices } from '../../lib/connection/sse-client-connection.js';
import { SseBufferBudget } from '../../lib/connection/sse-buffer-budget.js';
import { SseSettings } from '../../lib/config/sse-settings.js';
import { SseCounters } from '../../lib/delivery/sse-counters.js';
import type { SsePublisher } from '../../lib/delivery/sse-publisher.js';
import type { SseExchange } from '../../lib/http/sse-exchange.js';
import type { SseResponseChannel } from '../../lib/http/sse-response-channel.js';

/** A response channel whose counters the test moves, as a socket's would move when its client reads. */
class FakeChannel implements SseResponseChannel {
  readonly streamHeaders = {};
  readonly highWaterMark = 16 * 1024;
  unsentBytes = 0;
  sentBytes = 0;
  destroyed = false;
  prepare(): void {}
  write(): boolean {
    return true;
  }
  get needsDrain(): boolean {
    return this.unsentBytes >= this.highWaterMark;
  }
  whenWritable(): Promise<void> {
    return Promise.resolve();
  }
  get isFinished(): boolean {
    return this.destroyed;
  }
  onEnd(): void {}
  end(): void {}
  closeConnection(): void {}
  destroy(): void {
    this.destroyed = true;
  }
  /** The client read `bytes`, while `written` more were queued. */
  progress(bytes: number, written = 0): void {
    this.sentBytes += bytes;
    this.unsentBytes += written - bytes;
  }
}

const TIMEOUT = 600;
const SWEEP = TIMEOUT / 4;

function openConnection() {
  const channel = new FakeChannel();
  const exchange = { channel, onClose: () => undefined, isGone: false, writeHead: () => undefined } as unknown as SseExchange;
  const settings = new SseSettings({});
  const counters = new SseCounters(settings);
  const services: SseConnectionServices = {
    hooks: { opened: () => undefined, closed: () => undefined, regrouped: async () => undefined, stopping: () => '' },
    counters,
    publisher: {} as SsePublisher,
    budget: new SseBufferBudget(settings, counters),
  };
  const identity = { name: 'feed', groups: [], user: undefined, clientId: 'c1', scope: 'global' as const, lastEventId: undefined };
  const connectionSettings = { retry: 3000, reconnectSpread: 0, allowAllOrigins: false, maxBufferedBytes: 1 << 20, maxEventBytes: undefined };
  const connection = new SseClientConnection(identity, exchange, connectionSettings, services);
  connection.open();
  /** Runs the monitor's sweeps from `from` to `to` ms (inclusive), every quarter timeout, after `between` at each. */
  const sweep = (from: number, to: number, between: () => void = () => undefined) => {
    for (let now = from; now <= to; now += SWEEP) {
      between();
      connection.closeIfStalled(now, TIMEOUT);
      if (connection.isClosed) return now;
    }
    return undefined;
  };
  return { connection, channel, counters, sweep };
}

describe('SseClientConnection.closeIfStalled (stallTimeout)', () => {
  it('closes a connection whose unsent bytes have not moved for the timeout, not before, and counts it', () => {
    const { connection, channel, counters, sweep } = openConnection();
    channel.progress(100_000, 300_000);
    // First sweep notes the level; the stall is timed from the next one that sees no progress.
    expect(sweep(0, SWEEP + TIMEOUT - SWEEP)).toBeUndefined();
    expect(connection.isOpen).toBe(true);
    expect(sweep(SWEEP + TIMEOUT, SWEEP + TIMEOUT)).toBe(SWEEP + TIMEOUT);
    expect({ destroyed: channel.destroyed, closed: connection.isClosed, stalled: counters.snapshot().stalledDisconnects }).toEqual({
      destroyed: true,
      closed: true,
      stalled: 1,
    });
  });

  it('never closes a connection with nothing unsent, however long it stays quiet', () => {
    const { connection, sweep } = openConnection();
    expect(sweep(0, 20 * TIMEOUT)).toBeUndefined();
    expect(connection.isOpen).toBe(true);
  });

  it('never closes a slow client that reads, even while its backlog grows', () => {
    const { connection, channel, sweep } = openConnection();
    // Each sweep period the client reads 10 KB while 15 KB more are queued: behind, not stalled.
    expect(sweep(0, 20 * TIMEOUT, () => channel.progress(10_000, 15_000))).toBeUndefined();
    expect(connection.isOpen).toBe(true);
    expect(channel.unsentBytes).toBeGreaterThan(0);
  });

  it('times a stall from the last progress', () => {
    const { connection, channel, sweep } = openConnection();
    channel.progress(0, 50_000);
    // Nothing moves from the first sweep on, for most of the timeout ...
    expect(sweep(0, TIMEOUT - SWEEP)).toBeUndefined();
    // ... then the client reads a little: the next sweep sees it, and the one after starts a new stall,
    channel.progress(1_000);
    expect(sweep(TIMEOUT, 2 * TIMEOUT)).toBeUndefined();
    expect(connection.isOpen).toBe(true);
    // which lasts a full timeout.
    expect(sweep(2 * TIMEOUT + SWEEP, 3 * TIMEOUT)).toBe(2 * TIMEOUT + SWEEP);
  });

  it('does nothing to a connection that is already closed', () => {
    const { connection, channel, counters, sweep } = openConnection();
    channel.progress(0, 50_000);
    void connection.close();
    for (let now = 0; now <= 10 * TIMEOUT; now += SWEEP) connection.closeIfStalled(now, TIMEOUT);
    expect({ destroyed: channel.destroyed, stalled: counters.snapshot().stalledDisconnects }).toEqual({ destroyed: false, stalled: 0 });
  });
});
