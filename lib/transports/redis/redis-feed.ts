import type { Cluster, Redis } from 'ioredis';
import { compareOrders, decodeMessage, type RedisCommandRecord, type RedisRecord, type RedisSendRecord } from './redis-record.codec.js';
import { RedisNameKeys } from './redis-keys.js';

/** What the feed hands on, per name, in order. */
export interface RedisFeedHandler {
  /** A send for this instance's connections of `name` (each once, in order). */
  send(name: string, record: RedisSendRecord): void;
  /** A close, join, leave or replacement on `name`'s channel. */
  command(name: string, record: RedisCommandRecord): void;
  /** The sends of `topics` of `name` after `after` (order id), from their streams, in order: a catch-up. */
  since(name: string, topics: readonly string[], after: string): Promise<readonly RedisSendRecord[]>;
}

/** This instance's subscriptions to one name's topics, and where its delivery stands. */
interface NameFeed {
  /** Topic → how many local connections (or callers) need it. */
  readonly topics: Map<string, number>;
  /** Order id of the last send handed on: a send heard on two topics' channels goes on once. */
  last: string | undefined;
  /** Live records held back while a catch-up reads the streams (and until one succeeds). */
  held: RedisRecord[] | undefined;
  /** Where a catch-up that could not read the streams started: the next one starts there again. */
  missedAfter: string | undefined;
  catchingUp: boolean;
}

/** How soon a catch-up that could not read the streams (Redis not back yet, or slow) is tried again. */
const CATCH_UP_RETRY_MS = 250;

/**
 * Live sends, read only for what this instance serves: it subscribes (sharded
 * pub/sub) to the channels of the topics of its own connections — each name
 * they are under, each of their groups, users and client ids — and to nothing
 * else. Pub/sub delivers at most once, so after every resubscription (a
 * reconnect, a failover) each name catches up from its topics' streams, from
 * the last send handed on; duplicates are dropped by order id.
 */
export class RedisFeed {
  private readonly names = new Map<string, NameFeed>();
  /** What this instance has read from its subscriptions: messages and their bytes. */
  readonly received = { messages: 0, bytes: 0 };
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly subscriber: Redis | Cluster,
    private readonly prefix: string,
    private readonly handler: RedisFeedHandler,
  ) {
    subscriber.on('smessageBuffer', (channel: Buffer, message: Buffer) => this.heard(channel.toString(), message));
    // Resubscribed after a reconnect (one Redis) or a topology change (Cluster): what was missed meanwhile is read back.
    // (A PING answered means the resubscriptions sent before it are in force.)
    subscriber.on('ready', () => void (subscriber as Redis).ping().then(() => this.catchUpAll(), () => undefined));
    subscriber.on('+subscriber', () => this.catchUpAll());
  }

  /** Subscribes this instance to a topic of `name` (counted); resolves once Redis confirmed it. */
  async subscribe(name: string, topic: string): Promise<void> {
    let feed = this.names.get(name);
    if (!feed) this.names.set(name, (feed = { topics: new Map(), last: undefined, held: undefined, missedAfter: undefined, catchingUp: false }));
    const refs = feed.topics.get(topic) ?? 0;
    feed.topics.set(topic, refs + 1);
    if (refs === 0) await this.subscriber.ssubscribe(new RedisNameKeys(this.prefix, name).channel(topic));
  }

  /** Lets go of one count of a topic; the last one unsubscribes. */
  unsubscribe(name: string, topic: string): void {
    const feed = this.names.get(name);
    const refs = feed?.topics.get(topic);
    if (!feed || refs === undefined) return;
    if (refs > 1) return void feed.topics.set(topic, refs - 1);
    feed.topics.delete(topic);
    if (feed.topics.size === 0) this.names.delete(name);
    void this.subscriber.sunsubscribe(new RedisNameKeys(this.prefix, name).channel(topic)).catch(() => undefined);
  }

  /**
   * A subscription of `name` could not be confirmed (Redis away): once it is
   * back, `name` catches up from `ms` (Redis clock), unless it already
   * delivered something to go on from.
   */
  catchUpFrom(name: string, ms: number): void {
    const feed = this.names.get(name);
    if (feed && feed.last === undefined) feed.last = `${Math.max(0, Math.floor(ms))}-0`;
  }

  /** Topics of `name` this instance is subscribed to. */
  topicsOf(name: string): string[] {
    return [...(this.names.get(name)?.topics.keys() ?? [])];
  }

  private heard(channel: string, message: Buffer): void {
    this.received.messages++;
    this.received.bytes += message.length;
    const parsed = RedisNameKeys.parseChannel(this.prefix, channel);
    const feed = parsed && this.names.get(parsed.name);
    if (!parsed || !feed) return;
    const record = decodeMessage(message);
    if (feed.held) feed.held.push(record);
    else this.handOn(parsed.name, feed, record);
  }

  private handOn(name: string, feed: NameFeed, record: RedisRecord): void {
    if (record.type !== 's') return this.handler.command(name, record);
    if (feed.last !== undefined && compareOrders(record.order, feed.last) <= 0) return;
    feed.last = record.order;
    this.handler.send(name, record);
  }

  private catchUpAll(): void {
    if (this.stopped) return;
    for (const [name, feed] of this.names) {
      const after = feed.missedAfter ?? feed.last;
      if (after !== undefined && !feed.catchingUp) void this.catchUp(name, feed, after);
    }
  }

  /** Stops catching up (the transport disconnects). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private async catchUp(name: string, feed: NameFeed, after: string): Promise<void> {
    feed.catchingUp = true;
    feed.held ??= [];
    try {
      const records = await this.handler.since(name, [...feed.topics.keys()], after);
      feed.missedAfter = undefined;
      for (const record of records) this.handOn(name, feed, record);
      const held = feed.held;
      feed.held = undefined;
      for (const record of held) this.handOn(name, feed, record);
    } catch {
      // The streams could not be read (the command connection not back yet, or too slow): what
      // is heard live stays held, so that nothing goes on before what was missed, and it is tried again.
      feed.missedAfter = after;
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        this.catchUpAll();
      }, CATCH_UP_RETRY_MS);
    } finally {
      feed.catchingUp = false;
    }
  }
}
