import { isAddressedTo } from '../addressing/sse-target.js';
import { compareEventIds, isOrderedId } from './event-id-order.js';
import type { SseHistory, SseHistoryEntry, SseReplay, SseReplayReader, SseTopicRef } from './sse-history.js';
import type { SseTransportTarget } from '../interfaces/sse-transport.interface.js';

/** How much history to keep. */
export interface SseHistoryLimits {
  /** Events kept per topic; 0 keeps none. */
  size: number;
  /** Milliseconds an event stays replayable. */
  ttl: number;
  /** Topics kept at most; the least recently sent to is forgotten first. */
  maxTopics: number;
  /** Bytes of frames kept at most (each event counted once); the largest topics lose their oldest first. */
  maxBytes: number;
}

/** An entry as stored: its place in send order, and how many topics hold it. */
interface Stored extends SseHistoryEntry {
  readonly seq: number;
  refs: number;
}

/** Where a topic's history begins: the newest event it dropped (by size, age or memory). */
type Mark = { readonly seq: number; readonly id: string };

// Topic keys: kind, name and value joined by a character no identifier may contain.
const SEP = '\u001f';

/** One topic's events, oldest first: a queue whose emptied slots are released at once and compacted in batches. */
class Topic {
  private entries: Array<Stored | undefined> = [];
  private start = 0;
  /** Bytes of the frames this topic holds. */
  bytes = 0;
  newestDropped: Mark | undefined;
  /** The `'latest'` entry this topic holds per event type (made on the first such entry). */
  private latest: Map<string, Stored> | undefined;

  constructor(
    readonly name: string,
    readonly ref: SseTopicRef,
  ) {}

  get length(): number {
    return this.entries.length - this.start;
  }

  get oldest(): Stored | undefined {
    return this.entries[this.start];
  }

  push(stored: Stored): void {
    this.entries.push(stored);
    this.bytes += stored.frame.length;
    stored.refs++;
  }

  /**
   * Takes out the `'latest'` entry of `type` that `stored` replaces (returned,
   * to be released), and makes `stored` the one. A replaced entry is not a loss:
   * the topic's history still begins where it did.
   */
  replaceLatest(type: string, stored: Stored): Stored | undefined {
    const latest = (this.latest ??= new Map());
    const previous = latest.get(type);
    latest.set(type, stored);
    if (!previous) return undefined;
    const index = this.entries.indexOf(previous, this.start);
    if (index < 0) return undefined;
    this.entries.splice(index, 1);
    this.bytes -= previous.frame.length;
    return previous;
  }

  /** Drops the oldest entry and returns it. */
  dropOldest(): Stored {
    const stored = this.entries[this.start]!;
    this.entries[this.start++] = undefined;
    this.bytes -= stored.frame.length;
    if (stored.mode === 'latest' && this.latest?.get(stored.type!) === stored) this.latest.delete(stored.type!);
    // Only its place: the frame itself is let go.
    this.newestDropped = { seq: stored.seq, id: stored.id };
    // The emptied slots are compacted once they are half the array (amortized O(1) per entry).
    if (this.start * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
    return stored;
  }

  /** The entries after a position, found by walking back from the newest while `isAfter` holds. */
  after(isAfter: (stored: Stored) => boolean): Stored[] {
    let from = this.entries.length;
    while (from > this.start && isAfter(this.entries[from - 1]!)) from--;
    return this.entries.slice(from) as Stored[];
  }

  /** The newest `count` entries that `accept` takes, oldest first. */
  newest(count: number, accept: (stored: Stored) => boolean): Stored[] {
    const found: Stored[] = [];
    for (let i = this.entries.length - 1; i >= this.start && found.length < count; i--) {
      if (accept(this.entries[i]!)) found.push(this.entries[i]!);
    }
    return found.reverse();
  }
}

/**
 * The default `SseHistory`: this instance's record of every send, kept per
 * topic, bounded per topic by count (`size`) and age (`ttl`), and in all by
 * the number of topics (least recently sent to forgotten first) and bytes
 * (the largest topics lose their oldest first). Expired events are dropped as
 * topics are written and by a sweep (an unref'd timer); a topic left with
 * nothing is forgotten. Where a forgotten topic's history ended is kept (for
 * as many topics as `maxTopics`, then folded into one watermark), so a later
 * replay can still tell "nothing missed" from "missed" (`sse.gap`), and is
 * conservative only past that.
 */
export class SseMemoryHistory implements SseHistory {
  /** Every topic, least recently sent to first (re-inserted on append). */
  private readonly topics = new Map<string, Topic>();
  /** Per name: the newest id sent to it (an up-to-date client missed nothing) and its topic count. */
  private readonly names = new Map<string, { latestId: string; topics: number }>();
  /** The entry held under each id (the latest, when a caller reuses an id). */
  private readonly ids = new Map<string, Stored>();
  private seq = 0;
  private bytes = 0;
  /** The first orderable id recorded: a position before it is before this history began. */
  private firstId: string | undefined;
  /** Where each recently forgotten topic's history ended (at most `maxTopics` of them, oldest dropped first). */
  private readonly forgottenTopics = new Map<string, Mark>();
  /** The newest event of every forgotten topic no longer in `forgottenTopics`. */
  private forgotten: Mark | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: SseHistoryLimits,
    /** True while `name` has a connection on this instance (its latest id is then kept). */
    private readonly inUse: (name: string) => boolean = () => false,
  ) {}

  append(entry: SseHistoryEntry): void {
    this.sweeper ??= this.startSweeping();
    if (this.firstId === undefined && isOrderedId(entry.id)) this.firstId = entry.id;
    // A live-only event is a position, not a stored event: a client that saw it is up to date.
    if (entry.mode === 'none') {
      for (const name of entry.target.names) this.nameRecord(name).latestId = entry.id;
      return;
    }
    const stored: Stored = { ...entry, seq: ++this.seq, refs: 0 };
    const expiredBefore = entry.sentAt - this.limits.ttl;
    for (const name of entry.target.names) {
      this.nameRecord(name).latestId = entry.id;
      for (const [key, ref] of topicsOfSend(name, entry.target)) {
        const topic = this.touch(key, name, ref);
        if (entry.mode === 'latest') {
          const replaced = topic.replaceLatest(entry.type ?? 'message', stored);
          if (replaced) this.letGo(replaced);
        }
        topic.push(stored);
        this.evict(topic, this.limits.size, expiredBefore);
      }
    }
    if (stored.refs > 0) {
      this.bytes += stored.frame.length;
      this.ids.set(stored.id, stored);
    }
    while (this.topics.size > this.limits.maxTopics) this.forget(this.topics.keys().next().value!);
    if (this.bytes > this.limits.maxBytes) this.shrink();
  }

  since(reader: SseReplayReader, lastEventId: string): SseReplay {
    // Up to date: nothing was sent to its name since, even when that last event has expired.
    if (this.names.get(reader.name)?.latestId === lastEventId) return { lostTopics: [], oldestAvailableId: null, frames: [] };
    const position = this.positionOf(lastEventId);
    const expiredBefore = Date.now() - this.limits.ttl;
    const lostTopics: SseTopicRef[] = [];
    const missed: Stored[][] = [];
    let oldest: Stored | undefined;
    for (const [key, ref] of topicsOfReader(reader)) {
      const topic = this.topics.get(key);
      if (topic) this.evict(topic, this.limits.size, expiredBefore);
      const dropped = topic ? topic.newestDropped : (this.forgottenTopics.get(key) ?? this.forgotten);
      if (position.lost(dropped)) lostTopics.push(ref);
      if (!topic || topic.length === 0) continue;
      if (!oldest || topic.oldest!.seq < oldest.seq) oldest = topic.oldest;
      missed.push(topic.after(position.isAfter));
    }
    return { lostTopics, oldestAvailableId: oldest?.id ?? null, frames: framesInSendOrder(missed, reader) };
  }

  recent(reader: SseReplayReader, group: string, count: number): Buffer[] {
    const topic = this.topics.get(topicKey('group', reader.name, group));
    if (!topic || count <= 0) return [];
    return topic.newest(count, (stored) => isAddressedTo(stored.target, reader)).map(withoutIdLine);
  }

  /** Stops the sweep timer (module teardown). */
  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Drops what has expired everywhere; forgets topics left empty, and names with no topic and no connection. */
  sweep(now = Date.now()): void {
    const expiredBefore = now - this.limits.ttl;
    for (const [key, topic] of this.topics) {
      this.evict(topic, this.limits.size, expiredBefore);
      if (topic.length === 0) this.forget(key);
    }
    for (const [name, record] of this.names) if (record.topics === 0 && !this.inUse(name)) this.names.delete(name);
  }

  /**
   * Where a client resumes: after the entry it names (found by lookup), else
   * after its id in id order (generated and Redis ids), else nowhere known —
   * every topic then counts as lost and everything held follows.
   */
  private positionOf(lastEventId: string): {
    isAfter: (stored: Stored) => boolean;
    lost: (mark: Mark | undefined) => boolean;
  } {
    const held = this.ids.get(lastEventId);
    if (held) {
      return { isAfter: (stored) => stored.seq > held.seq, lost: (mark) => mark !== undefined && mark.seq > held.seq };
    }
    const sinceStart = this.firstId === undefined ? undefined : compareEventIds(lastEventId, this.firstId);
    if (sinceStart !== undefined && sinceStart >= 0) {
      // Ids the app chose cannot be ordered: they count as after the position (replayed), and as lost when dropped.
      const after = (id: string) => (compareEventIds(id, lastEventId) ?? 1) > 0;
      return { isAfter: (stored) => after(stored.id), lost: (mark) => mark !== undefined && after(mark.id) };
    }
    return { isAfter: () => true, lost: () => true };
  }

  /** The topic under `key`, created if needed, moved to the most recently used end. */
  private touch(key: string, name: string, ref: SseTopicRef): Topic {
    let topic = this.topics.get(key);
    if (topic) this.topics.delete(key);
    else {
      topic = new Topic(name, ref);
      // A topic sent to again picks up where its forgotten history ended.
      topic.newestDropped = this.forgottenTopics.get(key);
      this.forgottenTopics.delete(key);
      this.nameRecord(name).topics++;
    }
    this.topics.set(key, topic);
    return topic;
  }

  private nameRecord(name: string): { latestId: string; topics: number } {
    let record = this.names.get(name);
    if (!record) this.names.set(name, (record = { latestId: '', topics: 0 }));
    return record;
  }

  /** Drops a topic whole, remembering where its history ended. */
  private forget(key: string): void {
    const topic = this.topics.get(key)!;
    while (topic.length > 0) this.letGo(topic.dropOldest());
    this.topics.delete(key);
    this.names.get(topic.name)!.topics--;
    const newest = topic.newestDropped;
    if (!newest) return;
    this.forgottenTopics.set(key, { seq: newest.seq, id: newest.id });
    if (this.forgottenTopics.size <= this.limits.maxTopics) return;
    // The oldest memory goes into the one watermark: replays before it are conservative.
    const [oldestKey, oldest] = this.forgottenTopics.entries().next().value!;
    this.forgottenTopics.delete(oldestKey);
    if (!this.forgotten || oldest.seq > this.forgotten.seq) this.forgotten = oldest;
  }

  private evict(topic: Topic, size: number, expiredBefore: number): void {
    while (topic.length > size || (topic.length > 0 && topic.oldest!.sentAt < expiredBefore)) this.letGo(topic.dropOldest());
  }

  /** Over `maxBytes`: the largest topics lose their oldest events first, down to 90 % (so this runs rarely). */
  private shrink(): void {
    const goal = Math.floor(this.limits.maxBytes * 0.9);
    const largestFirst = [...this.topics.values()].sort((a, b) => b.bytes - a.bytes);
    // First down to a fair share each, then (entries shared by topics free less) whatever it takes.
    for (const share of [Math.floor(goal / largestFirst.length), 0]) {
      for (const topic of largestFirst) {
        while (this.bytes > goal && topic.length > 0 && topic.bytes > share) this.letGo(topic.dropOldest());
      }
    }
  }

  /** One topic let go of `stored`; the last one frees it. */
  private letGo(stored: Stored): void {
    if (--stored.refs > 0) return;
    this.bytes -= stored.frame.length;
    if (this.ids.get(stored.id) === stored) this.ids.delete(stored.id);
  }

  private startSweeping(): NodeJS.Timeout {
    const timer = setInterval(() => this.sweep(), Math.max(1_000, Math.min(this.limits.ttl, 60_000)));
    timer.unref();
    return timer;
  }
}

type TopicKind = 'name' | 'group' | 'user' | 'clientId';

const topicKey = (kind: TopicKind, name: string, value: string): string => `${kind}${SEP}${name}${SEP}${value}`;

/** The topics a send to `target` is kept in under `name`: the most specific its target names. */
function topicsOfSend(name: string, target: SseTransportTarget): Array<[string, SseTopicRef]> {
  if (target.clientIds) return target.clientIds.map((clientId) => [topicKey('clientId', name, clientId), { clientId }]);
  if (target.users) return target.users.map((user) => [topicKey('user', name, user), { user }]);
  if (target.groups) return target.groups.map((group) => [topicKey('group', name, group), { group }]);
  return [[topicKey('name', name, ''), { name }]];
}

/** Every topic a connection belongs to: its name, each of its groups, its user, its client id. */
function topicsOfReader(reader: SseReplayReader): Array<[string, SseTopicRef]> {
  const topics: Array<[string, SseTopicRef]> = [[topicKey('name', reader.name, ''), { name: reader.name }]];
  for (const group of reader.groups) topics.push([topicKey('group', reader.name, group), { group }]);
  if (reader.user !== undefined) topics.push([topicKey('user', reader.name, reader.user), { user: reader.user }]);
  topics.push([topicKey('clientId', reader.name, reader.clientId), { clientId: reader.clientId }]);
  return topics;
}

/** The frames of several topics' lists (each in send order) merged in send order, each entry once, those addressed to `reader` only. */
function framesInSendOrder(lists: Stored[][], reader: SseReplayReader): Buffer[] {
  const all = lists.length === 1 ? lists[0] : lists.flat().sort((a, b) => a.seq - b.seq);
  const frames: Buffer[] = [];
  let last = 0;
  for (const stored of all) {
    if (stored.seq === last) continue;
    last = stored.seq;
    if (isAddressedTo(stored.target, reader)) frames.push(stored.frame);
  }
  return frames;
}

/** A frame without its leading `id:` line (no copy). */
function withoutIdLine(stored: Stored): Buffer {
  return stored.frame.subarray(Buffer.byteLength(`id: ${stored.id}\n`));
}
