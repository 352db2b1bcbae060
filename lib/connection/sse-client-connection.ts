import { encodeEvents, encodeProtocolFrame, frameEvents, KEEP_ALIVE_FRAME } from '../delivery/sse-frame.encoder.js';
import { closeFrame, isComeBackLater, type SseCloseReason } from './sse-come-back.js';
import { SseOutbox, type SseOutboxSink } from '../delivery/sse-outbox.js';
import { encodeHeaderValue } from '../http/sse-incoming-request.js';
import { EVENT_STREAM_HEAD, type SseExchange } from '../http/sse-exchange.js';
import { SseConnectionClosedError } from '../errors/sse-connection-closed.error.js';
import { SseMessages } from '../sse.messages.js';
import { MAX_GROUPS_HEADER_LENGTH } from '../sse.constants.js';
import type { SseBacklogHolder, SseBufferBudget } from './sse-buffer-budget.js';
import type { SseCounters } from '../delivery/sse-counters.js';
import type { SsePublisher } from '../delivery/sse-publisher.js';
import type { SseReplay } from '../history/sse-history.js';
import type { SseScope } from '../interfaces/sse-broadcast-level.type.js';
import type { SseContext } from '../interfaces/sse-context.interface.js';
import type { SseConnectionInfo } from '../interfaces/sse-connection-info.interface.js';
import type { SseCloseOptions, SseEvent, SseJoinOptions } from '../interfaces/sse-event.interface.js';
import { identifierList } from '../addressing/sse-target.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { mayReconnect } from '../config/value-checks.js';
import type { SsePreparedEvents, SseTransportConnection } from '../interfaces/sse-transport.interface.js';

export type { SseCloseReason };

/** Who a connection is, decided before its stream opens. */
export interface SseConnectionIdentity {
  readonly name: string;
  /** Its groups at open, in order, without repeats. */
  readonly groups: readonly string[];
  readonly user: string | undefined;
  readonly clientId: string;
  readonly scope: SseScope;
  readonly lastEventId: string | undefined;
  /** The resumable stream it produces or follows, if any (`sse.open`'s `streamId`, `X-Sse-Stream-Id`). */
  readonly streamId?: string;
}

/** How a connection writes, from the route's and the module's options. */
export interface SseConnectionSettings {
  /** `retry:` sent with `sse.open`, and the base of a spread `retry:`. */
  readonly retry: number;
  /** Width (ms) of the range a spread `retry:` is drawn from, above `retry`. */
  readonly reconnectSpread: number;
  /** Sends `Access-Control-Allow-Origin: *`. */
  readonly allowAllOrigins: boolean;
  /** Unsent bytes above which the client is dropped as slow. */
  readonly maxBufferedBytes: number;
  /** Largest encoded event of a local send. */
  readonly maxEventBytes: number | undefined;
}

/** Through these a connection reports to whoever manages it (`SseLocalDelivery`). */
export interface SseConnectionHooks {
  /**
   * Called once the stream has opened, right after `sse.open`, in the same
   * synchronous step: the replay is written and the connection registered
   * here, then connect listeners run (so what they send follows sse.open).
   */
  opened(connection: SseClientConnection): void;
  /** Called once, when an open connection has closed for any reason. */
  closed(connection: SseClientConnection): void;
  /**
   * Called when an open connection's groups changed from `before`: it is
   * re-indexed, announced, and (when asked) sent what it missed; resolves
   * once every instance sees the change.
   */
  regrouped(connection: SseClientConnection, before: readonly string[], options: SseJoinOptions): Promise<void>;
  /** Called as an open connection is closed for good (`reconnect: false`): its client id is marked stopped; returns its stop token. */
  stopping(connection: SseClientConnection): string;
}

/** A change of groups: whether it changed anything, and when every instance sees it. */
export interface SseRegrouping {
  readonly changed: boolean;
  readonly announced: Promise<void>;
}

/** What a connection needs of the module: where it reports, what it counts, how a global send goes out, the memory budget. */
export interface SseConnectionServices {
  readonly hooks: SseConnectionHooks;
  readonly counters: SseCounters;
  readonly publisher: SsePublisher;
  readonly budget: SseBufferBudget;
}

/**
 * One client's connection: a request turned into an event stream. It starts
 * *pending* (nothing written, so an error can still become a real HTTP
 * status), opens on its first event or when its handler returns, and closes
 * once. It writes through its exchange, never to Node's objects directly.
 */
export class SseClientConnection implements SseContext, SseOutboxSink, SseTransportConnection, SseBacklogHolder {
  readonly name: string;
  readonly user: string | undefined;
  readonly clientId: string;
  readonly scope: SseScope;
  readonly lastEventId: string | undefined;
  /** The resumable stream it produces or follows, if any. */
  readonly streamId: string | undefined;
  readonly connectedAt = new Date();
  /** Set by the registry while it walks the members of several groups (each connection once). @internal */
  visitMark = 0;
  private currentGroups: readonly string[];
  /** Set on every write, cleared by the keep-alive sweep: a connection that stays clear gets a ping. */
  wroteRecently = false;
  private state: 'pending' | 'open' | 'closed' = 'pending';
  /** Made when a handler first asks for `signal` (most connections never do). */
  private aborter: AbortController | undefined;
  private closeListeners: Array<() => void> = [];
  /** Frames of this tick, written together at its end. */
  private readonly outbox = new SseOutbox(this);
  /** Unsent bytes above which the client counts as slow; raised while a replay drains. */
  private bufferLimit: number;
  /** True when the limit is below the high-water mark, so a write that returns true can pass it. */
  private readonly checkEveryWrite: boolean;
  /** Behind: a write answered "past the high-water mark" and the channel has not drained since. */
  private behind = false;
  /** After a replay read apart from the live feed: which live events it already wrote (see writeLive). */
  private replayCovers: ((order: string) => boolean) | undefined;
  /** What the stall check saw last (see closeIfStalled); fields, not an object: one less per connection. */
  private sentBytesSeen = 0;
  private stalledSince: number | undefined;
  // One callback per connection, not one per keep-alive.
  private readonly afterPing = (error?: Error | null) => {
    if (error) this.abort();
  };

  constructor(
    identity: SseConnectionIdentity,
    private readonly exchange: SseExchange,
    private readonly settings: SseConnectionSettings,
    private readonly services: SseConnectionServices,
  ) {
    this.name = identity.name;
    this.currentGroups = identity.groups;
    this.user = identity.user;
    this.clientId = identity.clientId;
    this.scope = identity.scope;
    this.lastEventId = identity.lastEventId;
    this.streamId = identity.streamId;
    this.bufferLimit = settings.maxBufferedBytes;
    this.checkEveryWrite = this.bufferLimit <= exchange.channel.highWaterMark;
    // 'close' fires when the client goes away, after our own end(), and after an end by anyone else
    // once its last bytes are out; an end by anyone else (an exception filter) is known earlier.
    const closed = () => this.markClosed();
    exchange.onClose(closed);
    exchange.channel.onEnd(closed);
  }

  /** Its groups, in join order. */
  get groups(): readonly string[] {
    return this.currentGroups;
  }

  /** Its first group, if any (Pode's single group). */
  get group(): string | undefined {
    return this.currentGroups[0];
  }

  /** {@inheritDoc SseContext.signal} */
  get signal(): AbortSignal {
    if (!this.aborter) {
      this.aborter = new AbortController();
      if (this.state === 'closed') this.aborter.abort();
    }
    return this.aborter.signal;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Writes the head and `sse.open`. Idempotent; does nothing once closed. */
  open(): void {
    if (this.state !== 'pending') return;
    if (this.exchange.isGone) return this.markClosed();
    this.state = 'open';
    const headers: Record<string, string> = {
      ...EVENT_STREAM_HEAD,
      'X-Sse-Client-Id': encodeHeaderValue(this.clientId),
      'X-Sse-Name': encodeHeaderValue(this.name),
    };
    if (this.groups.length > 0) headers['X-Sse-Group'] = groupsHeader(this.groups);
    if (this.settings.allowAllOrigins) headers['Access-Control-Allow-Origin'] = '*';
    if (this.streamId !== undefined) headers['X-Sse-Stream-Id'] = encodeHeaderValue(this.streamId);
    this.exchange.writeHead(headers);
    const opening: Record<string, unknown> = { clientId: this.clientId, name: this.name, group: this.group ?? null, groups: this.groups };
    if (this.user !== undefined) opening.user = this.user;
    if (this.streamId !== undefined) opening.streamId = this.streamId;
    this.write(encodeProtocolFrame('sse.open', opening, this.settings.retry));
    // Replay and registration happen in this synchronous step (see SseConnectionHooks.opened).
    if (this.isOpen) this.services.hooks.opened(this);
  }

  /** Writes an encoded frame; false when the connection is closed. Opens a pending connection first. */
  write(frame: Buffer): boolean {
    if (this.state === 'pending') this.open();
    if (this.state !== 'open') return false;
    this.wroteRecently = true;
    this.outbox.push(frame);
    this.services.counters.bytesWritten(frame.length);
    return true;
  }

  /**
   * Writes a live send. Right after a replay read apart from the live feed
   * (Redis), skips the events the replay already wrote, until the feed has
   * passed them. @internal
   */
  writeLive(events: SsePreparedEvents): boolean {
    const covers = this.replayCovers;
    const { orders } = events;
    if (covers === undefined || orders === undefined) return this.write(events.frame);
    if (!covers(orders[orders.length - 1])) this.replayCovers = undefined;
    if (!covers(orders[0])) return this.write(events.frame);
    for (let i = 0; i < orders.length; i++) if (!covers(orders[i])) this.write(events.frames[i]);
    return this.isOpen;
  }

  /** Writes the frames of one tick (the outbox calls this). @internal */
  writeChunk(chunk: Buffer): void {
    if (this.state !== 'open') return;
    const channel = this.exchange.channel;
    const belowHighWaterMark = channel.write(chunk);
    // Unsent bytes pile up in memory when the client reads slower than we send:
    // past the limit it is cut off (and replays what it missed when it returns).
    // A limit above the high-water mark can only be passed by a write that
    // returned false, so the (costly) length is read only then.
    if (!belowHighWaterMark || this.checkEveryWrite) {
      // Ended by someone else (an exception filter, a timeout interceptor): ours no more.
      if (channel.isFinished) return this.markClosed();
      const unsent = channel.unsentBytes;
      if (unsent > this.bufferLimit) return this.dropSlow();
      if (!belowHighWaterMark) this.fellBehind(unsent);
    }
  }

  /** Bytes written to this connection that have not reached the kernel yet. */
  get unsentBytes(): number {
    return this.exchange.channel.unsentBytes;
  }

  /** Dropped by the memory budget (`maxTotalBufferedBytes`). @internal */
  dropOverBudget(): void {
    this.abort();
  }

  /**
   * Closes the connection when it has held unsent bytes and none of them has
   * reached the client for `timeout` ms (called by the monitor every quarter
   * of it). A client that reads, however slowly, moves the channel's
   * `sentBytes` on and is never closed here (`maxBufferedBytes` and the memory
   * budget bound what it can hold). @internal
   */
  closeIfStalled(now: number, timeout: number): void {
    if (!this.isOpen) return;
    const channel = this.exchange.channel;
    const sentBytes = channel.sentBytes;
    if (channel.unsentBytes === 0 || sentBytes !== this.sentBytesSeen) this.stalledSince = undefined;
    else if (this.stalledSince === undefined) this.stalledSince = now;
    else if (now - this.stalledSince >= timeout) {
      this.services.counters.stallDropped();
      return this.abort();
    }
    this.sentBytesSeen = sentBytes;
  }

  /** Counts this connection against the memory budget until its channel drains. */
  private fellBehind(unsent: number): void {
    this.services.budget.behind(this, unsent);
    if (this.behind) return;
    this.behind = true;
    void this.exchange.channel.whenWritable().then(() => {
      this.behind = false;
      this.services.budget.caughtUp(this);
    });
  }

  /** Resolves when the client can take more (at once when it can), or the connection closed: paces async iterables. */
  whenWritable(): Promise<void> {
    this.outbox.flush();
    const channel = this.exchange.channel;
    if (!this.isOpen || !channel.needsDrain) return Promise.resolve();
    // Closed while waiting (ended by someone else, dropped): a socket that never drains must not hold the producer.
    return new Promise((resolve) => {
      const stopWaiting = this.onClose(resolve);
      void channel.whenWritable().then(() => {
        stopWaiting();
        resolve();
      });
    });
  }

  /** Writes a keep-alive comment; a write that fails (dead peer) closes the connection at once. */
  ping(): void {
    if (!this.isOpen) return;
    // Whatever waits goes first, so the ping never lands inside this tick's frames.
    this.outbox.flush();
    const channel = this.exchange.channel;
    if (!this.isOpen || channel.isFinished) return this.markClosed();
    channel.write(KEEP_ALIVE_FRAME, this.afterPing);
    this.services.counters.bytesWritten(KEEP_ALIVE_FRAME.length);
    if (channel.unsentBytes > this.bufferLimit) this.dropSlow();
  }

  /** {@inheritDoc SseContext.send} */
  async send(event: SseEvent<unknown> | readonly SseEvent<unknown>[]): Promise<void> {
    // Encoded (and so checked) before the stream opens: a bad event while
    // pending still becomes a real HTTP error.
    const encoded = encodeEvents(event, this.settings.maxEventBytes);
    if (this.scope === 'local') {
      if (!this.write(frameEvents(encoded.texts, encoded.ids).frame)) throw this.closedError();
      this.services.counters.eventsAccepted(encoded.texts.length, this.name);
      return;
    }
    // Opened before it is recorded, so that this send is not also part of the opening replay.
    if (this.state === 'pending') this.open();
    if (!this.isOpen) throw this.closedError();
    // Through the transport like any send: recorded in every instance's history, written here.
    await this.services.publisher.publishEncoded({ names: [this.name], clientIds: [this.clientId] }, encoded);
  }

  /** {@inheritDoc SseContext.close} */
  async close(options?: SseCloseOptions): Promise<void> {
    if (!mayReconnect(options) && this.state !== 'closed') this.end('server', this.services.hooks.stopping(this));
    else this.end('server');
  }

  /** {@inheritDoc SseContext.join} */
  async join(groups: string | readonly string[], options: SseJoinOptions = {}): Promise<void> {
    await this.regroup('join', groups, options).announced;
  }

  /** {@inheritDoc SseContext.leave} */
  async leave(groups: string | readonly string[]): Promise<void> {
    await this.regroup('leave', groups, {}).announced;
  }

  /**
   * Joins or leaves groups, here or for the cluster: the change is made at
   * once (sends that follow see it); `announced` resolves once every
   * instance's queries do. Nothing changes while pending or closed. @internal
   */
  regroup(change: 'join' | 'leave', groups: string | readonly string[], options: SseJoinOptions): SseRegrouping {
    if (this.scope !== 'global') throw new SseInvalidArgumentError(SseMessages.joinOnLocal(this.name));
    const listed = identifierList('group', groups) ?? [];
    const before = this.currentGroups;
    const after =
      change === 'join' ? [...before, ...listed.filter((g) => !before.includes(g))] : before.filter((g) => !listed.includes(g));
    if (this.state !== 'open' || after.length === before.length) return { changed: false, announced: Promise.resolve() };
    this.currentGroups = after;
    return { changed: true, announced: this.services.hooks.regrouped(this, before, options) };
  }

  /**
   * Sends `sse.close` with the reason (opening first if needed) and ends the
   * response. A reason that asks the client to come back later gets a spread
   * `retry:` first and closes the HTTP connection; a `stopToken` (reason
   * `server`, for good) goes out as the frame's `id:` with `"reconnect":false`.
   */
  end(reason: SseCloseReason, stopToken?: string): void {
    if (stopToken !== undefined) {
      this.finish(encodeProtocolFrame('sse.close', { reason, reconnect: false }, undefined, stopToken), false);
    } else {
      this.finish(closeFrame(reason, this.settings.retry, this.settings.reconnectSpread), isComeBackLater(reason));
    }
  }

  /** Writes a resumable stream's last frame (made once for every follower) and ends the response. @internal */
  endWith(lastFrame: Buffer): void {
    this.finish(lastFrame, false);
  }

  /** Sends `sse.error` with a message (never a stack) and ends the response. */
  fail(message: string): void {
    this.finish(encodeProtocolFrame('sse.error', { message }), false);
  }

  /** Drops a pending connection without writing, so the framework can answer with an error status. */
  discard(): void {
    if (this.state === 'pending') this.markClosed();
  }

  /**
   * Writes what a reconnecting client missed: `sse.gap` first when a topic of
   * its own lost events it needed, then every missed event still held. @internal
   */
  resume(replay: SseReplay, lastEventId: string): void {
    this.replayCovers = replay.covers;
    const { lostTopics, oldestAvailableId } = replay;
    if (lostTopics.length > 0) this.write(encodeProtocolFrame('sse.gap', { lastEventId, oldestAvailableId, topics: lostTopics }));
    this.writeReplay(replay.frames);
  }

  /** Writes frames from history (a resume, or a join's backfill). @internal */
  writeReplay(frames: readonly Buffer[]): void {
    if (frames.length === 0) return;
    // The replay is bounded by the history, whose frames are shared: it may
    // exceed the slow-client limit once without counting as slowness.
    let bytes = 0;
    for (const frame of frames) bytes += frame.length;
    this.bufferLimit += bytes;
    for (const frame of frames) this.write(frame);
    void this.whenWritable().then(() => (this.bufferLimit = this.settings.maxBufferedBytes));
  }

  /**
   * Runs `listener` once when the connection closes, pending or open (at once if it already has).
   * Returns a function that removes it (so that what it holds can be freed early).
   */
  onClose(listener: () => void): () => void {
    if (this.state === 'closed') listener();
    else this.closeListeners.push(listener);
    return () => {
      const index = this.closeListeners.indexOf(listener);
      if (index >= 0) this.closeListeners.splice(index, 1);
    };
  }

  /** A snapshot of the identity, safe to hand to user code. */
  info(): SseConnectionInfo {
    const { name, group, groups, user, clientId, scope, lastEventId, connectedAt } = this;
    return { name, group, groups, user, clientId, scope, lastEventId, connectedAt };
  }

  /**
   * Writes a last frame (opening first if needed) and ends the response, unless
   * someone else ended it; `closeConnection`: the HTTP connection goes too.
   */
  private finish(lastFrame: Buffer, closeConnection: boolean): void {
    if (this.state === 'closed') return;
    if (this.state === 'open' && this.exchange.channel.isFinished) return this.markClosed();
    this.write(lastFrame);
    this.outbox.flush();
    if (closeConnection) this.exchange.channel.closeConnection();
    this.exchange.channel.end();
    this.markClosed();
  }

  private closedError(): SseConnectionClosedError {
    return new SseConnectionClosedError(SseMessages.connectionClosed(this.name, this.clientId));
  }

  /** A client that stopped reading: it could not read an `sse.close` anyway, so it is cut off. */
  private dropSlow(): void {
    this.services.counters.slowClientDropped();
    this.abort();
  }

  /** Destroys the connection and closes at once (no need to wait for its 'close' event). */
  private abort(): void {
    this.exchange.channel.destroy();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.services.budget.caughtUp(this);
    // No reason: fetch and SDKs then reject with a plain AbortError.
    this.aborter?.abort();
    if (wasOpen) this.services.hooks.closed(this);
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener();
  }
}

/** The groups as `X-Sse-Group` carries them: comma-separated, each percent-encoded, as many as fit in 1 KB. */
function groupsHeader(groups: readonly string[]): string {
  let header = '';
  for (const group of groups) {
    const next = header === '' ? encodeHeaderValue(group) : `${header},${encodeHeaderValue(group)}`;
    if (next.length > MAX_GROUPS_HEADER_LENGTH) break;
    header = next;
  }
  return header;
}
