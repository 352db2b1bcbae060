import { isAddressedTo } from '../../addressing/sse-target.js';
import { withinTime } from '../../utils/bounded-wait.js';
import { compareOrders, decodeRecord, parseOwnId, type RedisSendRecord } from './redis-record.codec.js';
import { RedisNameKeys, topicOf } from './redis-keys.js';
import { RECENT, REPLAY } from './redis.scripts.js';
import type { RedisLink } from './redis-link.js';
import type { SseHistory, SseHistoryEntry, SseReplay, SseReplayReader, SseTopicRef } from '../../history/sse-history.js';

/** One event as a replay merges it: its place in the name's order, its frame, its send's target. */
interface ReplayEvent {
  readonly order: string;
  readonly id: string;
  readonly frame: Buffer;
  readonly entry: Pick<SseHistoryEntry, 'target'>;
}

/** What `prepare` fetched for a reconnecting connection, and what was delivered here while it waited. */
interface Prepared {
  /** Its position in the name's order, or undefined when unknown (then everything held is sent). */
  position: string | undefined;
  lostTopics: SseTopicRef[];
  events: ReplayEvent[];
  /** Sends delivered here after `prepare` began: the streams may not have had them yet. */
  readonly meanwhile: ReplayEvent[];
  failed: boolean;
}

/** A history limit as the module gives it (events per topic, ms each stays). */
export interface RedisHistoryLimits {
  readonly size: number;
  readonly ttl: number;
}

/**
 * `SseHistory` kept in Redis, per topic (one stream each, under the name's
 * hash tag), so instances do not keep every event in memory. A reconnecting
 * connection's replay is fetched before it opens (`prepare`, after this
 * instance subscribed to its topics) and merged, in order and once, with what
 * was delivered here meanwhile.
 */
export class RedisTopicHistory implements SseHistory {
  private readonly prepared = new Map<SseReplayReader, Prepared>();
  /** Set once the transport is connected. */
  limits: RedisHistoryLimits = { size: 0, ttl: 1 };

  constructor(
    private readonly link: () => RedisLink | undefined,
    private readonly prefix: string,
    private readonly timeout: number,
  ) {}

  append(entry: SseHistoryEntry): void {
    // A 'none' event goes live only: a connection that was not there yet does not get it.
    if (this.prepared.size === 0 || entry.order === undefined || entry.mode === 'none') return;
    for (const [reader, prepared] of this.prepared) {
      if (entry.target.names.includes(reader.name)) prepared.meanwhile.push({ order: entry.order, id: entry.id, frame: entry.frame, entry });
    }
  }

  async prepare(reader: SseReplayReader, lastEventId: string): Promise<void> {
    const prepared: Prepared = { position: undefined, lostTopics: [], events: [], meanwhile: [], failed: false };
    this.prepared.set(reader, prepared);
    const link = this.link();
    try {
      if (!link) throw new Error('not connected');
      const keys = new RedisNameKeys(this.prefix, reader.name);
      const topics = topicsOfReader(reader);
      const own = parseOwnId(lastEventId);
      const args = [keys.base, this.limits.size, this.limits.ttl, own ? 'o' : 'a', own?.order ?? '', own?.epoch ?? '', lastEventId, topics.length, ...topics.map(([topic]) => topic)];
      const answer = await withinTime(link.runBuffer(REPLAY, [keys.meta, keys.dropped, keys.appIds, ...topics.map(([topic]) => keys.stream(topic))], args), this.timeout);
      if (!answer.done) throw new Error('timed out');
      const [position, ...perTopic] = answer.value as [Buffer, ...Array<[number, Buffer[]]>];
      prepared.position = position.length === 0 ? undefined : position.toString();
      perTopic.forEach(([lost, entries], i) => {
        if (lost === 1) prepared.lostTopics.push(topics[i][1]);
        for (let k = 0; k + 2 < entries.length; k += 3) prepared.events.push(...eventsOf(decodeRecord(entries[k + 1].toString(), entries[k + 2])));
      });
    } catch {
      // Redis away: the connection replays what it can and says it may have lost the rest.
      prepared.failed = true;
    }
  }

  since(reader: SseReplayReader, _lastEventId: string): SseReplay {
    const prepared = this.prepared.get(reader);
    this.prepared.delete(reader);
    const all = topicsOfReader(reader).map(([, ref]) => ref);
    if (!prepared || prepared.failed) {
      return { lostTopics: all, oldestAvailableId: null, frames: framesOf(prepared?.meanwhile ?? [], reader, undefined) };
    }
    const events = [...prepared.events, ...prepared.meanwhile];
    const oldest = prepared.events.reduce<ReplayEvent | undefined>((min, e) => (!min || compareOrders(e.order, min.order) < 0 ? e : min), undefined);
    // The last place the streams were read up to: the feed may bring those events again, later.
    const readUpTo = events.reduce<string | undefined>((max, e) => (max === undefined || compareOrders(e.order, max) > 0 ? e.order : max), prepared.position);
    return {
      lostTopics: prepared.lostTopics,
      oldestAvailableId: oldest?.id ?? null,
      frames: framesOf(events, reader, prepared.position),
      covers: readUpTo === undefined ? undefined : (order) => compareOrders(order, readUpTo) <= 0,
    };
  }

  release(reader: SseReplayReader): void {
    this.prepared.delete(reader);
  }

  async recent(reader: SseReplayReader, group: string, count: number): Promise<Buffer[]> {
    const link = this.link();
    if (!link || count <= 0) return [];
    const keys = new RedisNameKeys(this.prefix, reader.name);
    const entries = (await link.runBuffer(RECENT, [keys.stream(topicOf('g', group))], [keys.base, count, this.limits.ttl])) as Array<[Buffer, Buffer[]]>;
    const events = entries.reverse().flatMap(([, fields]) => eventsOf(decodeRecord(fields[1].toString(), fields[3])));
    // Without their `id:` line, so that the browser's Last-Event-ID never moves back.
    return events
      .filter((event) => isAddressedTo(event.entry.target, reader))
      .slice(-count)
      .map((event) => event.frame.subarray(Buffer.byteLength(`id: ${event.id}\n`)));
  }
}

/** The events of a send record. */
function eventsOf(record: ReturnType<typeof decodeRecord>): ReplayEvent[] {
  if (record.type !== 's') return [];
  const { events, target } = record as RedisSendRecord;
  return events.ids.map((id, i) => ({ order: events.orders[i], id, frame: events.frames[i], entry: { target } }));
}

/** In order, each once, after the position, addressed to the reader. */
function framesOf(events: ReplayEvent[], reader: SseReplayReader, position: string | undefined): Buffer[] {
  const sorted = events.sort((a, b) => compareOrders(a.order, b.order));
  const frames: Buffer[] = [];
  let last: string | undefined = position;
  for (const event of sorted) {
    if (last !== undefined && compareOrders(event.order, last) <= 0) continue;
    last = event.order;
    if (isAddressedTo(event.entry.target, reader)) frames.push(event.frame);
  }
  return frames;
}

/** Every topic a connection belongs to, as the streams name them and as `sse.gap` names them. */
function topicsOfReader(reader: SseReplayReader): Array<[string, SseTopicRef]> {
  const topics: Array<[string, SseTopicRef]> = [[topicOf('n'), { name: reader.name }]];
  for (const group of reader.groups) topics.push([topicOf('g', group), { group }]);
  if (reader.user !== undefined) topics.push([topicOf('u', reader.user), { user: reader.user }]);
  topics.push([topicOf('c', reader.clientId), { clientId: reader.clientId }]);
  return topics;
}
