/**
 * Where each name lives in Redis. Every key and channel of a name carries the
 * same hash tag (`{<name>}`, percent-encoded so that braces in a name cannot
 * end it early), so on Redis Cluster a name lives on one shard: its scripts
 * touch one slot, its sends keep one order. The unit of spreading is the name.
 */

/** The kinds of topic: a name's broadcasts, a group, a user, a client id. */
export type RedisTopicKind = 'n' | 'g' | 'u' | 'c';

/** A topic of a name as keys and channels spell it: `n`, `g:<group>`, `u:<user>`, `c:<client id>`. */
export const topicOf = (kind: RedisTopicKind, value = ''): string => (kind === 'n' ? 'n' : `${kind}:${value}`);

/** The key and channel names of one name. */
export class RedisNameKeys {
  /** `<prefix>{<name>}:`: every key and channel of the name starts with it. */
  readonly base: string;

  constructor(prefix: string, readonly name: string) {
    this.base = `${prefix}{${encodeURIComponent(name)}}:`;
  }

  /** Hash: the id sequence (`ms`, `seq`), the epoch (`ep`, `rid`) and the previous one (`pep`, `plast`). */
  get meta(): string {
    return `${this.base}meta`;
  }

  /** Hash: topic → the newest stream id dropped from its history. */
  get dropped(): string {
    return `${this.base}drop`;
  }

  /** Hash: an id the app chose → its order id (found again by lookup while history keeps it). */
  get appIds(): string {
    return `${this.base}aid`;
  }

  /** Zset: an id the app chose → when it was sent (to forget it past the history's ttl). */
  get appIdsByAge(): string {
    return `${this.base}aidx`;
  }

  /** Hash: topic SEP event type → the stream id of the one `'latest'` event of that type kept there. */
  get latest(): string {
    return `${this.base}latest`;
  }

  /** Hash: client id → the claim in force (`<token>SEP<user>SEP<groups>SEP<details>`). */
  get claims(): string {
    return `${this.base}claim`;
  }

  /** Zset: client id → presence expiry (Redis clock, ms). */
  get connections(): string {
    return `${this.base}conn`;
  }

  /** Zset: group → latest expiry of its members. */
  get groups(): string {
    return `${this.base}groups`;
  }

  /** Zset of a group's or a user's members: client id → presence expiry. */
  members(kind: 'g' | 'u', value: string): string {
    return `${this.base}m:${topicOf(kind, value)}`;
  }

  /** Stream: a topic's history. */
  stream(topic: string): string {
    return `${this.base}s:${topic}`;
  }

  /** Sharded pub/sub channel: a topic's live sends (and, on `n`, the name's closes, joins and leaves). */
  channel(topic: string): string {
    return `${this.base}ch:${topic}`;
  }

  /** List: a resumable stream's recording (`o<owner instance>`, then `f<frame>`…, then `e<last frame>`). */
  recording(streamId: string): string {
    return `${this.base}rec:${encodeURIComponent(streamId)}`;
  }

  /** Sharded pub/sub channel: a resumable stream's live frames, its end, and stop requests. */
  recordingChannel(streamId: string): string {
    return `${this.base}rch:${encodeURIComponent(streamId)}`;
  }

  /** String: the answer of a batch already applied (a retry gets it instead of sending twice). */
  done(batchId: string): string {
    return `${this.base}done:${batchId}`;
  }

  /** Reads the name and topic back from a channel name of this prefix, or undefined. */
  static parseChannel(prefix: string, channel: string): { name: string; topic: string } | undefined {
    if (!channel.startsWith(`${prefix}{`)) return undefined;
    const close = channel.indexOf('}:ch:', prefix.length);
    if (close < 0) return undefined;
    return { name: decodeURIComponent(channel.slice(prefix.length + 1, close)), topic: channel.slice(close + 5) };
  }
}

/** Keys that are not a name's: one per instance, and the list of instances. */
export class RedisInstanceKeys {
  constructor(private readonly prefix: string) {}

  /** Zset: instance id → presence expiry (who answers closes, joins and leaves). */
  get instances(): string {
    return `${this.prefix}{instances}`;
  }

  /** Hash: an instance's connection count and names (for `names()` and `count()`). */
  instance(instanceId: string): string {
    return `${this.prefix}{i:${instanceId}}`;
  }

  /** Channel (classic pub/sub) on which an instance hears answers to its commands. */
  replies(instanceId: string): string {
    return `${this.prefix}reply:${instanceId}`;
  }
}
