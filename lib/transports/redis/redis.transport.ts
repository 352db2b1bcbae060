import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { SseTransportError } from '../../errors/sse-transport.error.js';
import { SseInvalidArgumentError } from '../../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../../sse.messages.js';
import { assertPositiveInteger } from '../../config/value-checks.js';
import { withinTime } from '../../utils/bounded-wait.js';
import { COMMAND, LEAVE, PUBLISH, QUERY, type LuaScript } from './redis.scripts.js';
import { modesField, preparedOf, targetJson, targetOf } from './redis-stream.codec.js';
import { RedisPresence, type RedisScriptRunner } from './redis-presence.js';
import { RedisStreamReader } from './redis-stream.reader.js';
import type { SseCloseOptions, SseJoinOptions } from '../../interfaces/sse-event.interface.js';
import type {
  SseEncodedEvents,
  SseTransport,
  SseTransportConnection,
  SseLocalConnections,
  SseTransportPeer,
  SseTransportTarget,
} from '../../interfaces/sse-transport.interface.js';

/** Options of `RedisTransport` (from `nestjs-sse-hub/redis`). */
export interface RedisTransportOptions {
  /** Where Redis is, e.g. `redis://localhost:6379` (`rediss://` for TLS). Redis ≥ 6.2. */
  url: string;
  /** Prefix of every key and channel; instances of one app share it, different apps on one Redis must not. Default `'sse-hub:'`. */
  keyPrefix?: string;
  /**
   * Milliseconds a connection stays visible after its instance stops renewing
   * it (a crash). Instances renew every third of it. Default 15000.
   */
  presenceTtl?: number;
  /**
   * Longest wait, in milliseconds, for Redis to accept a send or a close, and
   * to answer a query, before it rejects with `SseTransportError`. Default 2000.
   */
  commandTimeout?: number;
  /** Longest wait, in milliseconds, for the other instances to report what a `close` closed. Default 2000. */
  closeTimeout?: number;
  /**
   * Approximate number of entries kept in the shared event stream that
   * instances read from: an instance cut off from Redis while more events than
   * this were sent misses the oldest of them. Default 100000.
   */
  streamLength?: number;
  /** Extra ioredis options (TLS, password, ...); the options this transport relies on win over them. */
  redis?: RedisOptions;
}

type Arg = string | Buffer | number;

/** A close, join or leave waiting for every instance's answer (how many connections it changed there). */
interface PendingCommand {
  expected: number;
  answered: number;
  changed: number;
  done(): void;
}

/** The stream entry types of the commands that every instance answers (`x`: a close for good). */
type CommandType = 'c' | 'x' | 'j' | 'l';

const DEFAULTS = { keyPrefix: 'sse-hub:', presenceTtl: 15_000, commandTimeout: 2_000, closeTimeout: 2_000, streamLength: 100_000 };

const positiveInteger = (option: string, value: unknown): number => assertPositiveInteger(`option ${option}`, value);

/**
 * Spans `SseHub` over every instance of an application through Redis (≥ 6.2),
 * one line of configuration:
 *
 * ```ts
 * SseModule.forRoot({ transport: new RedisTransport({ url: process.env.REDIS_URL! }) })
 * ```
 *
 * - Every send and close is appended to one Redis stream that each instance
 *   reads in order from where it left off, so each instance writes each event
 *   once, also across a reconnection. A `send` resolves once Redis has
 *   accepted it and rejects with `SseTransportError` (after at most
 *   `commandTimeout`) when it was accepted nowhere.
 * - Presence lives in Redis with an expiry renewed every `presenceTtl / 3`:
 *   the connections of a crashed instance vanish from every query within
 *   `presenceTtl` (default 15 s).
 * - A client id is unique per name across the cluster: claims are ordered by a
 *   Redis counter, and the earlier connection is closed with reason `replaced`.
 * - When Redis is unreachable, local connections stay open, sends reject, and
 *   the transport reconnects by itself; it never throws from a timer.
 *
 * It is the only module of this package that imports `ioredis` (an optional
 * peer dependency). Give every instance the same SSE options.
 */
export class RedisTransport implements SseTransport {
  private readonly logger = new Logger('SseHub:Redis');
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly commandTimeout: number;
  private readonly closeTimeout: number;
  private readonly streamLength: number;
  private readonly instanceId = randomBytes(9).toString('base64url');
  private readonly redisOptions: RedisOptions;
  private readonly url: string;
  private commands: Redis | undefined;
  private reader: RedisStreamReader | undefined;
  private readerClient: Redis | undefined;
  private replies: Redis | undefined;
  private local: SseLocalConnections | undefined;
  private readonly presence: RedisPresence;
  private readonly pendingCommands = new Map<string, PendingCommand>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;
  private leaving = false;
  private outage = false;
  private requestSeq = 0;

  constructor(options: RedisTransportOptions) {
    if (typeof options !== 'object' || options === null || typeof options.url !== 'string' || options.url === '') {
      throw new SseInvalidArgumentError(SseMessages.invalidOption('RedisTransport url', 'a redis:// URL', options?.url));
    }
    const keyPrefix = options.keyPrefix ?? DEFAULTS.keyPrefix;
    if (typeof keyPrefix !== 'string') {
      throw new SseInvalidArgumentError(SseMessages.invalidOption('RedisTransport keyPrefix', 'a string', keyPrefix));
    }
    this.url = options.url;
    this.prefix = keyPrefix;
    this.ttl = positiveInteger('RedisTransport presenceTtl', options.presenceTtl ?? DEFAULTS.presenceTtl);
    this.commandTimeout = positiveInteger('RedisTransport commandTimeout', options.commandTimeout ?? DEFAULTS.commandTimeout);
    this.closeTimeout = positiveInteger('RedisTransport closeTimeout', options.closeTimeout ?? DEFAULTS.closeTimeout);
    this.streamLength = positiveInteger('RedisTransport streamLength', options.streamLength ?? DEFAULTS.streamLength);
    this.redisOptions = options.redis ?? {};
    const runner: RedisScriptRunner = { run: (script, args) => this.run(script, args), background: (work) => this.background(work) };
    this.presence = new RedisPresence(runner, this.instanceId, this.ttl, this.streamLength);
  }

  async connect(local: SseLocalConnections): Promise<void> {
    this.local = local;
    this.stopped = false;
    // Commands fail fast while Redis is away (no offline queue, nothing re-sent
    // after a reconnect), so a rejected send was carried out nowhere.
    this.commands = this.client('commands', {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.commandTimeout,
    });
    // The reader just waits out an outage and resumes from its last entry.
    this.readerClient = this.client('reader', { enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.reader = new RedisStreamReader(this.readerClient, `${this.prefix}events`, {
      apply: (fields) => this.apply(fields),
      load: (fields) => {
        if (fields.get('t')?.toString() === 's') local.record(targetOf(fields.get('tg')!.toString()), preparedOf(fields));
      },
    }, () => local.historyTtl);
    this.replies = this.client('replies', { enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.replies.on('message', (_channel: string, message: string) => this.onCommandAnswer(message));
    this.commands.on('ready', () => this.renew());

    const started = Promise.all([
      // Waits out an outage (offline queue); rejects only when we disconnect.
      this.replies.subscribe(`${this.prefix}reply:${this.instanceId}`).catch(() => undefined),
      this.reader.start(),
      this.waitReady(this.commands),
    ]);
    // Bounded: with Redis down at start-up the app still starts (sends reject until it is up).
    if (!(await withinTime(started, this.commandTimeout * 5)).done) this.logger.warn(SseMessages.transportNotReady(this.commandTimeout));
    this.renew();
    this.heartbeat = setInterval(() => this.renew(), Math.max(1, Math.floor(this.ttl / 3)));
    this.heartbeat.unref();
  }

  async disconnect(): Promise<void> {
    if (this.stopped || this.leaving) return;
    this.leaving = true;
    clearInterval(this.heartbeat);
    // Bounded at every step: shutdown never hangs on an unreachable Redis.
    const bounded = (work: Promise<unknown>) => withinTime(work.catch(() => undefined), this.commandTimeout);
    // Withdrawals of the connections just closed, then this instance itself.
    await bounded(Promise.allSettled([...this.inFlight]));
    if (this.commands?.status === 'ready') await bounded(this.run(LEAVE, [this.instanceId]));
    this.stopped = true;
    for (const pending of this.pendingCommands.values()) pending.done();
    const stopping = this.reader?.stop(this.commandTimeout);
    for (const client of [this.readerClient, this.replies, this.commands]) client?.disconnect();
    await stopping;
    this.local = undefined;
  }

  async publish(target: SseTransportTarget, events: SseEncodedEvents): Promise<number> {
    const started = Date.now();
    const sendId = `${this.instanceId}:${++this.requestSeq}`;
    // Remembered for as long as this instance may ask again (twice the bounded wait).
    const args: Arg[] = [
      this.deadline(),
      this.streamLength,
      sendId,
      this.commandTimeout * 2,
      targetJson(target),
      this.reader?.position ?? '0-0',
      events.texts.length,
    ];
    for (let i = 0; i < events.texts.length; i++) {
      const own = events.ids[i];
      args.push(own === undefined ? '' : `=${own}`, events.texts[i]);
    }
    args.push(modesField(events));
    for (let attempt = 1; ; attempt++) {
      try {
        const [, addressed] = (await this.run(PUBLISH, args)) as [string, number];
        return addressed;
      } catch (error) {
        const message = String((error as Error).message);
        // Never written to a socket: certainly sent nowhere, no need to wait.
        if (attempt === 1 && message.includes('enableOfflineQueue')) throw error;
        // Otherwise the answer may have been lost with the connection: ask again, same
        // send id, while the wait is still bounded. Redis answers the truth (sent once, or refused).
        const left = this.commandTimeout - (Date.now() - started);
        if (this.stopped || left <= 0 || message.includes('SSEHUB_DEADLINE')) throw error;
        await this.readyWithin(left);
      }
    }
  }

  async catchUp(): Promise<void> {
    if (this.stopped || this.commands?.status !== 'ready') return;
    try {
      const top = (await this.commands.xrevrange(`${this.prefix}events`, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
      const wanted = top[0]?.[0];
      if (wanted !== undefined) await this.reader?.catchUp(wanted, this.commandTimeout);
    } catch {
      // Redis away: replay from what this instance holds (a gap if that is not enough).
    }
  }

  async close(target: SseTransportTarget, options?: SseCloseOptions): Promise<number> {
    return this.command(options?.reconnect === false ? 'x' : 'c', target, [], 0);
  }

  /**
   * Remembers a stop for `ttlMs` in a key of its own (`P stop:<name>SEP<key>`,
   * a plain SET with PX): every instance's `isStopped` sees it.
   */
  async markStopped(name: string, key: string, ttlMs: number): Promise<void> {
    try {
      await this.commands?.set(this.stopKey(name, key), '1', 'PX', ttlMs);
    } catch (error) {
      this.logger.debug(String(error));
    }
  }

  /** True while a stop is remembered; false when Redis cannot tell (a client is let in rather than locked out). */
  async isStopped(name: string, key: string): Promise<boolean> {
    try {
      return this.commands?.status === 'ready' && (await this.commands.exists(this.stopKey(name, key))) === 1;
    } catch {
      return false;
    }
  }

  private stopKey(name: string, key: string): string {
    return `${this.prefix}stop:${name}\x1f${key}`;
  }

  async join(target: SseTransportTarget, groups: readonly string[], options: SseJoinOptions): Promise<number> {
    return this.command('j', target, groups, options.replay ?? 0);
  }

  async leave(target: SseTransportTarget, groups: readonly string[]): Promise<number> {
    return this.command('l', target, groups, 0);
  }

  async update(connection: SseTransportConnection): Promise<void> {
    await this.presence.update(connection);
  }

  /**
   * Puts a close, join or leave in the event stream (in order with sends) and
   * waits, bounded, for every instance's answer; resolves with the sum.
   */
  private async command(type: CommandType, target: SseTransportTarget, groups: readonly string[], replay: number): Promise<number> {
    const requestId = `${++this.requestSeq}`;
    let pending!: PendingCommand;
    const answered = new Promise<void>((resolve) => {
      pending = { expected: Infinity, answered: 0, changed: 0, done: resolve };
    });
    this.pendingCommands.set(requestId, pending);
    try {
      const instances = (await this.run(COMMAND, [
        this.deadline(),
        this.streamLength,
        type,
        targetJson(target),
        this.instanceId,
        requestId,
        groups.join('\x1e'),
        replay,
      ])) as number;
      pending.expected = instances;
      if (pending.answered >= instances) pending.done();
      // Bounded: an instance that crashed a moment ago is still counted as alive.
      await withinTime(answered, this.closeTimeout);
      return pending.changed;
    } finally {
      this.pendingCommands.delete(requestId);
    }
  }

  register(connection: SseTransportConnection): void {
    this.presence.register(connection);
  }

  unregister(connection: SseTransportConnection): void {
    this.presence.unregister(connection);
  }

  async names(): Promise<string[]> {
    return (await this.run(QUERY, ['names', ''])) as string[];
  }

  async groups(name: string): Promise<string[]> {
    return (await this.run(QUERY, ['groups', name])) as string[];
  }

  async clientIds(target: SseTransportTarget): Promise<string[]> {
    return (await this.run(QUERY, ['ids', targetJson(target)])) as string[];
  }

  async find(name: string, clientId: string): Promise<SseTransportPeer | undefined> {
    const found = (await this.run(QUERY, ['find', name, clientId])) as string | null;
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

  async count(target?: SseTransportTarget): Promise<number> {
    return (await this.run(QUERY, ['count', target === undefined ? '' : targetJson(target)])) as number;
  }

  /** The deadline of a command on Redis's clock: half the timeout, so an accepted command's answer has time to come back. */
  private deadline(): number {
    return Date.now() + (this.reader?.clockOffset ?? 0) + Math.floor(this.commandTimeout / 2);
  }

  private client(role: string, overrides: RedisOptions): Redis {
    const client = new Redis(this.url, {
      ...this.redisOptions,
      lazyConnect: false,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
      ...overrides,
    });
    // Without a listener ioredis reports errors as unhandled; we log one line per outage.
    client.on('error', (error: Error) => {
      if (role !== 'commands' || this.outage || this.stopped) return;
      this.outage = true;
      this.logger.warn(SseMessages.transportDown(error.message));
    });
    client.on('ready', () => {
      if (role === 'commands' && this.outage) {
        this.outage = false;
        this.logger.log(SseMessages.transportBack());
      }
    });
    return client;
  }

  /** Resolves when the command client is ready (after a short pause if it is already) or after `ms`. */
  private async readyWithin(ms: number): Promise<void> {
    const client = this.commands!;
    if (client.status === 'ready') return new Promise((resolve) => setTimeout(resolve, 10));
    await withinTime(this.waitReady(client), ms);
  }

  private waitReady(client: Redis): Promise<void> {
    if (client.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => client.once('ready', () => resolve()));
  }

  /** Runs a script; any failure becomes an `SseTransportError`. */
  private async run(script: LuaScript, args: Arg[]): Promise<unknown> {
    const commands = this.commands;
    if (!commands || this.stopped) throw new SseTransportError(SseMessages.transportNotConnected());
    const all: Arg[] = [this.prefix, ...args];
    try {
      try {
        return await commands.evalsha(script.sha, 0, ...all);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await commands.eval(script.lua, 0, ...all);
      }
    } catch (error) {
      throw new SseTransportError(SseMessages.transportFailed(error instanceof Error ? error.message : String(error)), error);
    }
  }

  /** Runs background work, never letting it throw, and lets disconnect() wait for it. */
  private background(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.logger.debug(String(error)));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  /** Renews presence on every heartbeat and after every reconnect. */
  private renew(): void {
    if (this.stopped || this.commands?.status !== 'ready') return;
    this.presence.renew();
  }

  /** Carries out one entry of the event stream on this instance. */
  private apply(fields: Map<string, Buffer>): void {
    const local = this.local;
    if (!local) return;
    try {
      const type = fields.get('t')?.toString();
      if (type === 's') {
        local.deliver(targetOf(fields.get('tg')!.toString()), preparedOf(fields));
      } else if (type === 'c' || type === 'x' || type === 'j' || type === 'l') {
        this.background(this.answer(type, fields, local));
      } else if (type === 'r') {
        this.presence.replaced(fields.get('n')!.toString(), fields.get('c')!.toString(), fields.get('tok')!.toString());
      }
    } catch (error) {
      this.logger.error(SseMessages.transportEntryFailed(error instanceof Error ? error.message : String(error)));
    }
  }

  /** Carries out a close, join or leave here, then tells the instance that asked how many connections it changed. */
  private async answer(type: CommandType, fields: Map<string, Buffer>, local: SseLocalConnections): Promise<void> {
    const target = targetOf(fields.get('tg')!.toString());
    const groupList = fields.get('gs')!.toString();
    const groups = groupList === '' ? [] : groupList.split('\x1e');
    const changed =
      type === 'c' || type === 'x'
        ? local.close(target, { reconnect: type !== 'x' })
        : type === 'j'
          ? local.join(target, groups, { replay: Number(fields.get('rp')!.toString()) })
          : local.leave(target, groups);
    // A join or leave is answered once its presence is in Redis, so that queries after it see it.
    if (type === 'j' || type === 'l') await this.presence.settled();
    await this.commands!.publish(`${this.prefix}reply:${fields.get('from')!.toString()}`, `${fields.get('rid')!.toString()} ${changed}`);
  }

  private onCommandAnswer(message: string): void {
    const [requestId, changed] = message.split(' ');
    const pending = this.pendingCommands.get(requestId);
    if (!pending) return;
    pending.answered++;
    pending.changed += Number(changed);
    if (pending.answered >= pending.expected) pending.done();
  }
}
