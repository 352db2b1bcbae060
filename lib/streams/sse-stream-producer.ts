import { randomBytes } from 'node:crypto';
import { encodeEvents, encodeProtocolFrame, frameEvents } from '../delivery/sse-frame.encoder.js';
import { SseConnectionClosedError } from '../errors/sse-connection-closed.error.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import type { SseClientConnection } from '../connection/sse-client-connection.js';
import type { SseCounters } from '../delivery/sse-counters.js';
import type { SseContext } from '../interfaces/sse-context.interface.js';
import type { SseEvent } from '../interfaces/sse-event.interface.js';
import type { SseStreamStore } from '../interfaces/sse-stream-store.interface.js';

/** Why a resumable stream ended, as its last `sse.close` says. */
export type SseStreamEndReason = 'done' | 'stopped' | 'shutdown';

/** What a producer needs of the stream service. */
export interface SseStreamProducerServices {
  readonly store: SseStreamStore;
  /** A stop token for `name`: the `id:` of the last frame, so that a reconnect offering it is answered 204. */
  stopToken(name: string): string;
  /** Called once, as the stream ends. */
  ended(producer: SseStreamProducer): void;
  /** Counts events sent (`stats().eventsSent`, the metrics), as a local stream's are. */
  readonly counters: Pick<SseCounters, 'eventsAccepted'>;
}

/** A resumable stream's limits (route and module options). */
export interface SseStreamLimits {
  readonly maxDuration: number;
  readonly maxRecordedBytes: number;
  readonly maxEventBytes: number | undefined;
}

/**
 * A resumable stream as its handler sees it (`@SseContext()`): every event
 * gets an id of the library's, is recorded, and is written to the producing
 * request's client while it is there. The stream outlives that client: it
 * ends when the handler returns (`done`), or when it is stopped (`stopped`,
 * `shutdown`), which aborts `signal`. Its last frame carries a stop token as
 * its `id:`.
 */
export class SseStreamProducer implements SseContext {
  readonly scope = 'local' as const;
  readonly groups: readonly string[] = [];
  readonly group = undefined;
  readonly streamId: string;
  private readonly aborter = new AbortController();
  /** Ids are `<tag>.<n>`: the tag (random per stream) keeps another stream's ids from matching. */
  private readonly tag = randomBytes(4).toString('base64url');
  private sequence = 0;
  private recordedBytes = 0;
  private ended = false;
  private started = false;
  private closeListeners: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly connection: SseClientConnection,
    private readonly limits: SseStreamLimits,
    private readonly services: SseStreamProducerServices,
  ) {
    this.streamId = connection.streamId!;
    this.timer = setTimeout(() => this.stop('stopped'), limits.maxDuration);
    // A stream stopped at maxDuration must not be what keeps the process alive.
    this.timer.unref();
  }

  get name(): string {
    return this.connection.name;
  }
  get clientId(): string {
    return this.connection.clientId;
  }
  get user(): string | undefined {
    return this.connection.user;
  }
  get lastEventId(): string | undefined {
    return this.connection.lastEventId;
  }
  get connectedAt(): Date {
    return this.connection.connectedAt;
  }

  /** {@inheritDoc SseContext.signal} */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  /** True once the stream has started (an event or the handler's return) and until it ends. */
  get isOpen(): boolean {
    return this.started && !this.ended;
  }

  /** True once the stream has ended (done or stopped); its client leaving does not end it. */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Opens the producing client's stream (head, `sse.open` with `streamId`). */
  open(): void {
    this.started = true;
    this.connection.open();
  }

  /** {@inheritDoc SseContext.send} */
  async send(event: SseEvent<unknown> | readonly SseEvent<unknown>[]): Promise<void> {
    if (this.ended) throw new SseConnectionClosedError(SseMessages.connectionClosed(this.name, this.clientId));
    const list: readonly SseEvent<unknown>[] = Array.isArray(event) ? event : [event as SseEvent<unknown>];
    if (list.some((e) => typeof e === 'object' && e !== null && e.id !== undefined)) throw new SseInvalidArgumentError(SseMessages.streamEventId());
    const encoded = encodeEvents(list, this.limits.maxEventBytes);
    const ids = encoded.texts.map(() => `${this.tag}.${++this.sequence}`);
    const prepared = frameEvents(encoded.texts, ids);
    if (this.recordedBytes + prepared.frame.length > this.limits.maxRecordedBytes) {
      this.stop('stopped');
      throw new SseConnectionClosedError(SseMessages.connectionClosed(this.name, this.clientId));
    }
    this.recordedBytes += prepared.frame.length;
    this.started = true;
    // Recorded first: a follower that saw this id on the producer's client finds it in the recording.
    this.services.store.append(this.name, this.streamId, prepared.frames);
    this.connection.write(prepared.frame);
    this.services.counters.eventsAccepted(ids.length, this.name);
  }

  /** Paces an async iterable by the producing client while it is there; at once after it left. */
  whenWritable(): Promise<void> {
    return this.connection.isOpen ? this.connection.whenWritable() : Promise.resolve();
  }

  /** The handler returned: the stream is done. (The interceptor's name for it: a local stream ends.) */
  end(): void {
    this.finish('done');
  }

  /** {@inheritDoc SseContext.close} The handler ends its own stream: `done`. */
  async close(): Promise<void> {
    this.finish('done');
  }

  /** Stops a running stream: aborts `signal`, ends with `reason`; false when it had ended. */
  stop(reason: 'stopped' | 'shutdown'): boolean {
    if (this.ended) return false;
    this.aborter.abort();
    this.finish(reason);
    return true;
  }

  /** The handler failed after the stream started: `sse.error` ends it, for every follower too. */
  fail(message: string): void {
    this.finishWith(encodeProtocolFrame('sse.error', { message }, undefined, this.services.stopToken(this.name)));
  }

  /** The handler failed before anything was written: the request gets an HTTP error, followers `sse.error`. */
  discard(): void {
    this.connection.discard();
    this.fail(SseMessages.handlerFailed());
  }

  /** {@inheritDoc SseContext.join} */
  async join(): Promise<void> {
    throw new SseInvalidArgumentError(SseMessages.joinOnLocal(this.name));
  }

  /** {@inheritDoc SseContext.leave} */
  async leave(): Promise<void> {
    throw new SseInvalidArgumentError(SseMessages.joinOnLocal(this.name));
  }

  /** Runs `listener` once when the stream ends (at once if it has); returns a function that removes it. */
  onClose(listener: () => void): () => void {
    if (this.ended) listener();
    else this.closeListeners.push(listener);
    return () => {
      const index = this.closeListeners.indexOf(listener);
      if (index >= 0) this.closeListeners.splice(index, 1);
    };
  }

  private finish(reason: SseStreamEndReason): void {
    if (this.ended) return;
    this.finishWith(encodeProtocolFrame('sse.close', { reason }, undefined, this.services.stopToken(this.name)));
  }

  /** Records the last frame, gives it to the producing client if still there, and lets everyone know. */
  private finishWith(lastFrame: Buffer): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.services.store.finish(this.name, this.streamId, lastFrame);
    this.connection.endWith(lastFrame);
    this.services.ended(this);
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener();
  }
}
