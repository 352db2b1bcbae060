import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SseTransportError } from '../../errors/sse-transport.error.js';
import { SseMessages } from '../../sse.messages.js';
import { withinTime } from '../../utils/bounded-wait.js';
import { QUERY, REPLAY, SEND } from './redis.scripts.js';
import { RedisBatcher } from './redis-batcher.js';
import { RedisFeed } from './redis-feed.js';
import { RedisTopicHistory } from './redis-history.js';
import { RedisInstanceKeys, RedisNameKeys, topicOf } from './redis-keys.js';
import { RedisLink } from './redis-link.js';
import { RedisPresence } from './redis-presence.js';
import { RedisStreams } from './redis-streams.js';
import { compareOrders, decodeRecord, modeLetters, targetJson, type RedisCommandRecord, type RedisSendRecord } from './redis-record.codec.js';
import { redisTransportSettings, type RedisTransportOptions, type RedisTransportSettings } from './redis-transport.options.js';
import type { SseCloseOptions, SseJoinOptions } from '../../interfaces/sse-event.interface.js';
import type {
  SseEncodedEvents,
  SseLocalConnections,
  SseTransport,
  SseTransportConnection,
  SseTransportPeer,
  SseTransportTarget,
} from '../../interfaces/sse-transport.interface.js';

export type { RedisTransportOptions } from './redis-transport.options.js';

/** An operation of a name's batch (the SEND script). */
type SendOp =
  | { kind: 's'; target: SseTransportTarget; events: SseEncodedEvents }
  | { kind: CommandKind; target: SseTransportTarget; requestId: string; groups: readonly string[]; replay: number };

/** A close ('c', or 'x' without reconnecting), join or leave that every instance serving the name carries out and answers. */
type CommandKind = 'c' | 'x' | 'j' | 'l';

/** A close, join or leave waiting for every instance's answer. */
interface PendingCommand {
  expected: number;
  answered: number;
  changed: number;
  done(): void;
}

/**
 * Spans `SseHub` over every instance of an application through Redis 7 —
 * one server, or a Redis Cluster sharded by name — in one line:
 *
 * ```ts
 * SseModule.forRoot({ transport: new RedisTransport({ url: process.env.REDIS_URL! }) })
 * ```
 *
 * - **Instances read only what they serve.** Each topic (a name's broadcasts,
 *   a group, a user, a client id) has a sharded pub/sub channel and a stream;
 *   an instance subscribes to the topics of its own connections only, and a
 *   send is published on (and kept in) the most specific topics of its
 *   target. History is read from the streams, not kept in every instance.
 * - **Batched.** Everything an instance sends (closes, joins, leaves, presence
 *   changes) within one event-loop turn goes in one script call per name. A
 *   send resolves once Redis applied it for every instance, or rejects with
 *   `SseTransportError` (after at most `commandTimeout`); a retry after a lost
 *   answer is idempotent. A send is atomic per name.
 * - **Ordered per name**, with ids `<ms>-<seq>.<epoch>`: the epoch changes
 *   with the Redis master, so a client holding an id from before a failover
 *   that lost it gets `sse.gap`, never someone else's event.
 * - **Presence** lives in Redis with an expiry renewed every `presenceTtl / 3`.
 * - When Redis is unreachable, local connections stay open, sends reject,
 *   and the transport reconnects and catches up by itself.
 *
 * It is the only module of this package that imports `ioredis` (an optional
 * peer dependency). Give every instance the same SSE options.
 */
export class RedisTransport implements SseTransport {
  readonly history: RedisTopicHistory;
  /** Resumable streams: one list per stream on its name's shard, a channel per stream. */
  readonly streams: RedisStreams;
  private readonly logger = new Logger('SseHub:Redis');
  private readonly settings: RedisTransportSettings;
  private readonly instanceId = randomBytes(9).toString('base64url');
  private readonly instanceKeys: RedisInstanceKeys;
  private link: RedisLink | undefined;
  private feed: RedisFeed | undefined;
  private presence: RedisPresence | undefined;
  private local: SseLocalConnections | undefined;
  private readonly sends: RedisBatcher<SendOp>;
  /** The topics each attached connection holds a subscription to. */
  private readonly attached = new Map<SseTransportConnection, Set<string>>();
  private readonly pendingCommands = new Map<string, PendingCommand>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private heartbeat: NodeJS.Timeout | undefined;
  private summaryScheduled = false;
  private requestSeq = 0;
  private stopped = false;

  constructor(options: RedisTransportOptions) {
    this.settings = redisTransportSettings(options);
    this.instanceKeys = new RedisInstanceKeys(this.settings.keyPrefix);
    this.history = new RedisTopicHistory(() => this.link, this.settings.keyPrefix, this.settings.commandTimeout);
    this.sends = new RedisBatcher((name, ops) => this.applyBatch(name, ops), this.settings.batching);
    this.streams = new RedisStreams({
      link: () => (this.stopped ? undefined : this.link),
      prefix: this.settings.keyPrefix,
      instanceId: this.instanceId,
      presenceTtl: this.settings.presenceTtl,
      isAlive: (instanceId) => this.isAlive(instanceId),
      background: (work) => this.background(work),
    });
  }

  /** True while an instance renews its presence (this one always). */
  private async isAlive(instanceId: string): Promise<boolean> {
    if (instanceId === this.instanceId) return true;
    const link = this.link;
    if (!link) return false;
    const expiry = await link.command((client) => client.zscore(this.instanceKeys.instances, instanceId), 'ZSCORE');
    return expiry !== null && Number(expiry) > Date.now() + this.clockSkew;
  }

  async connect(local: SseLocalConnections): Promise<void> {
    this.local = local;
    this.stopped = false;
    this.history.limits = local.historyLimits;
    const link = new RedisLink(this.settings);
    this.link = link;
    this.presence = new RedisPresence(
      link,
      this.settings.keyPrefix,
      this.instanceId,
      this.settings.presenceTtl,
      (work) => this.background(work),
      this.settings.batching,
      () => this.summarySoon(),
    );
    this.feed = new RedisFeed(link.subscriber, this.settings.keyPrefix, {
      send: (name, record) => this.delivered(name, record),
      command: (name, record) => this.commanded(name, record),
      since: (name, topics, after) => this.sendsSince(name, topics, after),
    });
    link.replies.on('message', (_channel: string, message: string) => this.answered(message));
    try {
      await link.start();
    } catch (error) {
      link.stop();
      throw error;
    }
    // Waits out an outage (offline queue); rejects only when we disconnect.
    void link.replies.subscribe(this.instanceKeys.replies(this.instanceId)).catch(() => undefined);
    link.commands.on('ready', () => this.renew());
    this.renew();
    this.heartbeat = setInterval(() => this.renew(), Math.max(1, Math.floor(this.settings.presenceTtl / 3)));
    this.heartbeat.unref();
  }

  async disconnect(): Promise<void> {
    if (this.stopped || !this.link) return;
    const link = this.link;
    clearInterval(this.heartbeat);
    // Bounded at every step: shutdown never hangs on an unreachable Redis.
    const bounded = (work: Promise<unknown>) => withinTime(work.catch(() => undefined), this.settings.commandTimeout);
    await bounded(Promise.allSettled([...this.inFlight]));
    if (link.isReady) {
      await bounded(link.command((client) => client.zrem(this.instanceKeys.instances, this.instanceId), 'ZREM'));
      await bounded(link.command((client) => client.del(this.instanceKeys.instance(this.instanceId)), 'DEL'));
    }
    this.stopped = true;
    this.feed?.stop();
    this.streams.clear();
    for (const pending of this.pendingCommands.values()) pending.done();
    link.stop();
    this.local = undefined;
  }

  async publish(target: SseTransportTarget, events: SseEncodedEvents): Promise<number> {
    if (events.texts.length === 0) return this.count(target);
    return this.perName(target, (name, perName) => this.sends.add<number>(name, { kind: 's', target: perName, events }));
  }

  async close(target: SseTransportTarget, options?: SseCloseOptions): Promise<number> {
    return this.command(options?.reconnect === false ? 'x' : 'c', target, [], 0);
  }

  /**
   * Remembers a stop for `ttlMs` in a key of the name's own (a plain SET with
   * PX): every instance's `isStopped` sees it. Never rejects.
   */
  async markStopped(name: string, key: string, ttlMs: number): Promise<void> {
    try {
      await this.link?.command((client) => client.set(this.stopKey(name, key), '1', 'PX', ttlMs), 'SET');
    } catch (error) {
      this.logger.debug(String(error));
    }
  }

  /** True while a stop is remembered; false when Redis cannot tell (a client is let in rather than locked out). */
  async isStopped(name: string, key: string): Promise<boolean> {
    const link = this.link;
    if (!link?.isReady) return false;
    try {
      return (await link.command((client) => client.exists(this.stopKey(name, key)), 'EXISTS')) === 1;
    } catch {
      return false;
    }
  }

  private stopKey(name: string, key: string): string {
    return `${new RedisNameKeys(this.settings.keyPrefix, name).base}stop:${key}`;
  }

  async join(target: SseTransportTarget, groups: readonly string[], options: SseJoinOptions): Promise<number> {
    return this.command('j', target, groups, options.replay ?? 0);
  }

  async leave(target: SseTransportTarget, groups: readonly string[]): Promise<number> {
    return this.command('l', target, groups, 0);
  }

  async attach(connection: SseTransportConnection): Promise<() => void> {
    const topics = new Set(topicsOf(connection));
    this.attached.set(connection, topics);
    // Subscribed before the connection opens: every send accepted after this resolves reaches it.
    // Bounded: with Redis away the connection opens all the same, and its name catches up once Redis is back.
    const attachedAt = Date.now() + this.clockSkew;
    const subscribed = Promise.all([...topics].map((topic) => this.feed?.subscribe(connection.name, topic).catch(() => undefined)));
    if (!(await withinTime(subscribed, this.settings.commandTimeout)).done) this.feed?.catchUpFrom(connection.name, attachedAt);
    return () => {
      for (const topic of this.attached.get(connection) ?? []) this.feed?.unsubscribe(connection.name, topic);
      this.attached.delete(connection);
    };
  }

  /**
   * What this instance has read from Redis's live channels since it connected:
   * it subscribes to the topics of its own connections only, so this is the
   * share of the cluster's traffic it serves (for capacity planning).
   */
  reads(): { messages: number; bytes: number } {
    return { ...(this.feed?.received ?? { messages: 0, bytes: 0 }) };
  }

  /** A PING on the command connection, within `commandTimeout`; rejects at once while Redis is away. */
  async ping(): Promise<void> {
    const link = this.link;
    if (!link || this.stopped) throw new SseTransportError(SseMessages.transportNotConnected());
    await link.command((client) => client.ping(), 'PING');
  }

  register(connection: SseTransportConnection): void {
    this.presence?.register(connection);
    this.summarySoon();
  }

  unregister(connection: SseTransportConnection): void {
    this.presence?.unregister(connection);
    this.summarySoon();
  }

  async update(connection: SseTransportConnection): Promise<void> {
    // Its channels first (sends that follow the change reach it), then its presence.
    const held = this.attached.get(connection);
    if (held) {
      const wanted = new Set(topicsOf(connection));
      for (const topic of held) if (!wanted.has(topic)) this.feed?.unsubscribe(connection.name, topic);
      await Promise.all([...wanted].filter((topic) => !held.has(topic)).map((topic) => this.feed?.subscribe(connection.name, topic)));
      this.attached.set(connection, wanted);
    }
    await this.presence?.update(connection);
  }

  async names(): Promise<string[]> {
    const names = new Set<string>();
    for (const summary of await this.summaries()) for (const name of summary.names) names.add(name);
    return [...names];
  }

  async groups(name: string): Promise<string[]> {
    return (await this.query(name, 'groups', '', [])) as string[];
  }

  async clientIds(target: SseTransportTarget): Promise<string[]> {
    const lists = await Promise.all(target.names.map((name) => this.query(name, 'ids', targetJson({ ...target, names: [name] }), memberKeys(name, target, this.settings.keyPrefix))));
    return (lists as string[][]).flat();
  }

  async count(target?: SseTransportTarget): Promise<number> {
    // All of them: every name some instance serves, each counted from its presence (as a target would be).
    target ??= { names: await this.names() };
    if (target.names.length === 0) return 0;
    const counts = await Promise.all(target.names.map((name) => this.query(name, 'count', targetJson({ ...target, names: [name] }), memberKeys(name, target, this.settings.keyPrefix))));
    return (counts as number[]).reduce((sum, n) => sum + n, 0);
  }

  async find(name: string, clientId: string): Promise<SseTransportPeer | undefined> {
    const found = (await this.query(name, 'find', clientId, [])) as string | null;
    if (found === null) return undefined;
    const [user, groups, at, lastEventId] = found.split('\x1f');
    return {
      user: user === '' ? undefined : user,
      groups: groups === '' ? [] : groups.split('\x1e'),
      connectedAt: new Date(Number(at)),
      // The id itself may hold anything but CR, LF and NUL: everything after its marker.
      lastEventId: lastEventId === '' ? undefined : found.slice(user.length + groups.length + at.length + 4),
    };
  }

  /** Runs one operation per name of the target; sums the answers. A send is atomic per name: see `SseTransportError.failedNames`. */
  private async perName(target: SseTransportTarget, run: (name: string, perName: SseTransportTarget) => Promise<number>): Promise<number> {
    const results = await Promise.allSettled(target.names.map((name) => run(name, { ...target, names: [name] })));
    const failed = target.names.filter((_, i) => results[i].status === 'rejected');
    if (failed.length === 0) return results.reduce((sum, result) => sum + (result as PromiseFulfilledResult<number>).value, 0);
    const first = (results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason as Error;
    if (failed.length === target.names.length) throw first;
    throw new SseTransportError(SseMessages.partialSend(failed, first.message), first, failed);
  }

  /** A close, join or leave: in the names' order with sends, answered (bounded) by every instance that serves them. */
  private async command(kind: CommandKind, target: SseTransportTarget, groups: readonly string[], replay: number): Promise<number> {
    const requestId = `${++this.requestSeq}`;
    let pending!: PendingCommand;
    const answered = new Promise<void>((resolve) => {
      pending = { expected: Infinity, answered: 0, changed: 0, done: resolve };
    });
    this.pendingCommands.set(requestId, pending);
    try {
      pending.expected = await this.perName(target, (name, perName) => this.sends.add<number>(name, { kind, target: perName, requestId, groups, replay }));
      if (pending.answered >= pending.expected) pending.done();
      // Bounded: an instance that crashed a moment ago may still be subscribed.
      await withinTime(answered, this.settings.closeTimeout);
      return pending.changed;
    } finally {
      this.pendingCommands.delete(requestId);
    }
  }

  /** One name's batch in one script call; retried (same batch id, so applied once) while the wait allows. */
  private async applyBatch(name: string, ops: readonly SendOp[]): Promise<readonly number[]> {
    const link = this.link;
    if (!link || this.stopped) throw new SseTransportError(SseMessages.transportNotConnected());
    const keys = new RedisNameKeys(this.settings.keyPrefix, name);
    const batchId = `${this.instanceId}:${++this.requestSeq}`;
    const declared = [keys.meta, keys.done(batchId), keys.dropped, keys.connections, keys.claims, keys.appIds, keys.appIdsByAge, keys.latest];
    const keyIndex = (key: string) => {
      let index = declared.indexOf(key);
      if (index < 0) index = declared.push(key) - 1;
      return index + 1;
    };
    const { size, ttl } = this.local?.historyLimits ?? { size: 0, ttl: 1 };
    const started = Date.now();
    const args: Array<string | number> = [keys.base, 0, size, Math.max(16, Math.floor(size / 4)), ttl, this.settings.commandTimeout * 2, ops.length];
    for (const op of ops) {
      for (const key of memberKeys(name, op.target, this.settings.keyPrefix)) keyIndex(key);
      if (op.kind === 's') {
        const topics = topicsOfSend(op.target);
        args.push('s', targetJson(op.target), topics.length);
        for (const topic of topics) args.push(topic, keyIndex(keys.stream(topic)));
        args.push(modeLetters(op.events.modes), op.events.texts.length);
        for (let i = 0; i < op.events.texts.length; i++) args.push(op.events.ids[i] ?? '', op.events.texts[i]);
      } else {
        args.push(op.kind, targetJson(op.target), JSON.stringify(op.requestId), JSON.stringify(this.instanceId), JSON.stringify(op.groups), op.replay);
      }
    }
    for (let attempt = 1; ; attempt++) {
      // The deadline on Redis's clock is not known here: half the timeout, so an accepted batch's answer has time to come back.
      args[1] = Date.now() + Math.floor(this.settings.commandTimeout / 2) + this.clockSkew;
      try {
        const answers = (await link.run(SEND, declared, args)) as number[];
        if (this.settings.durability === 'replicated') await link.replicated(keys.meta);
        return answers;
      } catch (error) {
        const message = String((error as Error).message);
        // Never written to a socket: certainly applied nowhere.
        if (attempt === 1 && message.includes('enableOfflineQueue')) throw error;
        // The answer may have been lost with the connection: ask again with the same batch id.
        const left = this.settings.commandTimeout - (Date.now() - started);
        if (this.stopped || left <= 0 || message.includes('SSEHUB_DEADLINE') || message.includes('replica')) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(left, 10 * attempt)));
      }
    }
  }

  /** Redis's clock minus ours (at most a round trip too high), measured at every renewal (deadlines are on Redis's clock). */
  private clockSkew = 0;

  /** Runs a QUERY on one name's shard. */
  private query(name: string, mode: string, arg: string, extraKeys: readonly string[]): Promise<unknown> {
    const link = this.link;
    if (!link) return Promise.reject(new SseTransportError(SseMessages.transportNotConnected()));
    const keys = new RedisNameKeys(this.settings.keyPrefix, name);
    return link.run(QUERY, [keys.claims, keys.connections, keys.groups, ...extraKeys], [keys.base, mode, arg]);
  }

  /** The sends of `topics` of `name` after `after`, from their streams (a catch-up after a resubscription). */
  private async sendsSince(name: string, topics: readonly string[], after: string): Promise<RedisSendRecord[]> {
    const keys = new RedisNameKeys(this.settings.keyPrefix, name);
    const { size, ttl } = this.local?.historyLimits ?? { size: 0, ttl: 1 };
    const answer = (await this.link!.runBuffer(REPLAY, [keys.meta, keys.dropped, keys.appIds, ...topics.map((topic) => keys.stream(topic))], [
      keys.base, size, ttl, 'r', after, '', '', topics.length, ...topics,
    ])) as [Buffer, ...Array<[number, Buffer[]]>];
    const records = new Map<string, RedisSendRecord>();
    for (const [, entries] of answer.slice(1) as Array<[number, Buffer[]]>) {
      for (let k = 0; k + 2 < entries.length; k += 3) {
        const record = decodeRecord(entries[k + 1].toString(), entries[k + 2]);
        if (record.type === 's') records.set(record.order, record);
      }
    }
    return [...records.values()].sort((a, b) => compareOrders(a.order, b.order));
  }

  /** A send heard on one of this instance's topics: to its local connections. */
  private delivered(_name: string, record: RedisSendRecord): void {
    this.local?.deliver(record.target, record.events);
  }

  /** A close, join or leave on a name this instance serves: carried out here, then answered. */
  private commanded(name: string, record: RedisCommandRecord): void {
    const local = this.local;
    if (!local) return;
    if (record.type === 'r') return this.presence?.replaced(name, record.clientId, record.token);
    const target = { ...record.target, names: [name] };
    const change =
      record.type === 'c' || record.type === 'x'
        ? Promise.resolve(local.close(target, { reconnect: record.type === 'c' }))
        : record.type === 'j'
          ? local.join(target, record.groups, { replay: record.replay })
          : local.leave(target, record.groups);
    const answer = (changed: number) =>
      this.link!.command((client) => client.publish(this.instanceKeys.replies(record.from), `${record.requestId} ${changed}`), 'PUBLISH');
    this.background(change.then(answer));
  }

  private answered(message: string): void {
    const [requestId, changed] = message.split(' ');
    const pending = this.pendingCommands.get(requestId);
    if (!pending) return;
    pending.answered++;
    pending.changed += Number(changed);
    if (pending.answered >= pending.expected) pending.done();
  }

  /** Renews this instance and its connections on every heartbeat and after every reconnect. */
  private renew(): void {
    const link = this.link;
    if (this.stopped || !link?.isReady) return;
    this.presence?.renew();
    this.streams.renew();
    this.background(this.publishSummary());
    const askedAt = Date.now();
    this.background(
      link.command((client) => client.time(), 'TIME').then(([seconds, micros]) => {
        const answeredAt = Date.now();
        // Redis read its clock between askedAt and answeredAt. Measured against askedAt, a late answer
        // (a busy event loop) can only loosen deadlines, by at most the round trip, never tighten them:
        // against answeredAt, a stall of the event loop counted as skew and refused batches Redis took
        // in time. A round trip of half the timeout or more says too little: the previous measure stays.
        if (answeredAt - askedAt >= this.settings.commandTimeout / 2) return;
        this.clockSkew = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - askedAt;
      }),
    );
  }

  /** Publishes this instance's connection count and names soon (once per turn). */
  private summarySoon(): void {
    if (this.summaryScheduled) return;
    this.summaryScheduled = true;
    setImmediate(() => {
      this.summaryScheduled = false;
      if (this.link?.isReady) this.background(this.publishSummary());
    });
  }

  private async publishSummary(): Promise<void> {
    const { count, names } = this.presence!.summary();
    const key = this.instanceKeys.instance(this.instanceId);
    const ttl = this.settings.presenceTtl;
    await this.link!.command(async (client) => {
      await client.zadd(this.instanceKeys.instances, Date.now() + this.clockSkew + ttl, this.instanceId);
      await client.hset(key, 'count', count, 'names', JSON.stringify(names));
      await client.pexpire(key, ttl);
    }, 'summary');
  }

  /** Every live instance's count and names. */
  private async summaries(): Promise<Array<{ count: number; names: string[] }>> {
    const link = this.link;
    if (!link) throw new SseTransportError(SseMessages.transportNotConnected());
    const now = Date.now() + this.clockSkew;
    const ids = await link.command((client) => client.zrangebyscore(this.instanceKeys.instances, `(${now}`, '+inf'), 'ZRANGEBYSCORE');
    const rows = await link.command((client) => Promise.all(ids.map((id) => client.hmget(this.instanceKeys.instance(id), 'count', 'names'))), 'HMGET');
    return rows.filter(([count]) => count !== null).map(([count, names]) => ({ count: Number(count), names: JSON.parse(names ?? '[]') as string[] }));
  }

  /** Runs background work, never letting it throw, and lets disconnect() wait for it. */
  private background(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.logger.debug(String(error)));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }
}

/** Every topic a connection belongs to: its name, its groups, its user, its client id. */
function topicsOf(connection: SseTransportConnection): string[] {
  const topics = [topicOf('n'), ...connection.groups.map((group) => topicOf('g', group)), topicOf('c', connection.clientId)];
  if (connection.user !== undefined) topics.push(topicOf('u', connection.user));
  return topics;
}

/** The topics a send to `target` (of one name) is kept in and published on: the most specific it names. */
function topicsOfSend(target: SseTransportTarget): string[] {
  if (target.clientIds) return target.clientIds.map((clientId) => topicOf('c', clientId));
  if (target.users) return target.users.map((user) => topicOf('u', user));
  if (target.groups) return target.groups.map((group) => topicOf('g', group));
  return [topicOf('n')];
}

/** The presence sets of the groups and users a target names (declared to the scripts that read them). */
function memberKeys(name: string, target: SseTransportTarget, prefix: string): string[] {
  const keys = new RedisNameKeys(prefix, name);
  return [...(target.groups ?? []).map((group) => keys.members('g', group)), ...(target.users ?? []).map((user) => keys.members('u', user))];
}
