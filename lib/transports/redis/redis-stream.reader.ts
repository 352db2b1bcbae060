import type { Redis } from 'ioredis';
import { withinTime } from '../../utils/bounded-wait.js';
import { compareIds, fieldsOf } from './redis-stream.codec.js';

const READ_BATCH = 512;
const READ_BLOCK_MS = 5_000;

/** What the reader does with the entries of the event stream. */
export interface RedisStreamEntryHandler {
  /** Carries out an entry sent while this instance was reading (in stream order). */
  apply(fields: Map<string, Buffer>): void;
  /** Records an entry from before this instance started (history only; nothing is written). */
  load(fields: Map<string, Buffer>): void;
}

/**
 * Reads the shared event stream in order, from the entry after the last one
 * applied, on a client of its own (its blocking reads would hold any other
 * command back). On start it loads the history window (`historyTtl`) so that
 * a client reconnecting here replays what it missed elsewhere, then positions
 * itself after the newest entry.
 */
export class RedisStreamReader {
  /** The id of the last entry applied (undefined until positioned). */
  private lastId: string | undefined;
  /** Redis's clock minus ours (ms), measured when positioned. */
  clockOffset = 0;
  private stopped = false;
  private reading: Promise<void> | undefined;
  private readonly catchUpWaiters = new Set<{ id: string; resolve(): void }>();

  constructor(
    private readonly client: Redis,
    private readonly key: string,
    private readonly handler: RedisStreamEntryHandler,
    private readonly historyTtl: () => number,
  ) {}

  /** The newest entry this instance holds (`0-0` before the first). */
  get position(): string {
    return this.lastId ?? '0-0';
  }

  /** Starts reading; resolves once positioned (after the history window was loaded). */
  start(): Promise<void> {
    return new Promise<void>((resolve) => (this.reading = this.loop(resolve)));
  }

  /** Stops reading and wakes every catch-up; resolves when the loop has ended, or after `ms`. */
  async stop(ms: number): Promise<void> {
    this.stopped = true;
    for (const waiter of [...this.catchUpWaiters]) waiter.resolve();
    await withinTime(this.reading ?? Promise.resolve(), ms);
  }

  /**
   * Resolves once every entry up to `newest` has been applied here, or after
   * `ms` (a reader that cannot catch up in time leaves the replay to what is here).
   */
  async catchUp(newest: string, ms: number): Promise<void> {
    if (compareIds(this.position, newest) >= 0) return;
    let waiter!: { id: string; resolve(): void };
    const caughtUp = new Promise<void>((resolve) => (waiter = { id: newest, resolve }));
    this.catchUpWaiters.add(waiter);
    await withinTime(caughtUp, ms);
    this.catchUpWaiters.delete(waiter);
  }

  private async loop(started: () => void): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.lastId === undefined) {
          const [seconds, micros] = (await this.client.time()) as [string | number, string | number];
          const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
          this.clockOffset = redisNow - Date.now();
          const last = (await this.client.xrevrange(this.key, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
          const top = last[0]?.[0];
          if (top !== undefined) await this.loadHistory(redisNow, top);
          // Live delivery starts after the newest entry: older sends concern no connection of a starting instance.
          this.lastId = top ?? '0-0';
          started();
        }
        const result = (await this.client.xreadBuffer('COUNT', READ_BATCH, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.key, this.lastId)) as
          | Array<[Buffer, Array<[Buffer, Buffer[]]>]>
          | null;
        started();
        for (const [, entries] of result ?? []) {
          for (const [id, raw] of entries) {
            this.lastId = id.toString();
            this.handler.apply(fieldsOf(raw));
          }
        }
        if (this.catchUpWaiters.size > 0) this.wakeCatchUps();
      } catch {
        if (this.stopped) return;
        // The client reconnects by itself; pause so a persistent error cannot spin.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Loads the sends of the history window, recorded only: they are not news to anyone connected. */
  private async loadHistory(redisNow: number, top: string): Promise<void> {
    const window = this.historyTtl();
    if (window === 0) return;
    let start = `${Math.max(0, redisNow - window)}-0`;
    for (;;) {
      const entries = (await this.client.xrangeBuffer(this.key, start, top, 'COUNT', READ_BATCH)) as Array<[Buffer, Buffer[]]>;
      for (const [id, raw] of entries) {
        this.handler.load(fieldsOf(raw));
        start = `(${id.toString()}`;
      }
      if (entries.length < READ_BATCH) return;
    }
  }

  private wakeCatchUps(): void {
    for (const waiter of [...this.catchUpWaiters]) {
      if (compareIds(this.position, waiter.id) >= 0) waiter.resolve();
    }
  }
}
