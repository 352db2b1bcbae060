import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeEvents, encodeProtocolFrame, KEEP_ALIVE_FRAME } from '../delivery/sse-frame.encoder.js';
import { SseConnectionClosedError } from '../errors/sse-connection-closed.error.js';
import { SseMessages } from '../sse.messages.js';
import { encodeHeaderValue, takeOverResponse } from '../http/sse-request.js';
import type { SseScope } from '../interfaces/sse-broadcast-level.type.js';
import type { SseContext } from '../interfaces/sse-context.interface.js';
import type { SseConnectionInfo } from '../interfaces/sse-connection-info.interface.js';
import type { SseEvent } from '../interfaces/sse-event.interface.js';
import type { SseDelivery } from '../delivery/sse-delivery.js';
import { SseOutbox, type SseOutboxSink } from '../delivery/sse-outbox.js';
import { SseResponseWriter } from '../http/sse-response-writer.js';

/** Why the server closed a connection; sent as `sse.close` data. */
export type SseCloseReason = 'server' | 'shutdown' | 'replaced';

/** The identity a connection is created with, decided before its stream opens. */
export interface SseStreamIdentity {
  name: string;
  group: string | undefined;
  clientId: string;
  scope: SseScope;
  lastEventId: string | undefined;
  retry: number | undefined;
  allowAllOrigins: boolean;
}

/** Callbacks through which a connection reports to whoever manages it. */
export interface SseStreamHooks {
  /**
   * Called once the stream has opened: after `sse.open` and any replay were
   * written, in the same synchronous step (global connections register here,
   * then connect listeners run, so what they send follows sse.open).
   */
  opened(connection: SseStream): void;
  /** Called once, when the connection has closed for any reason. */
  closed(connection: SseStream): void;
}

/**
 * One request turned into an event stream. It starts *pending* (nothing written,
 * so an error can still become a real HTTP status), opens on its first event or
 * when its handler returns, and closes once.
 */
export class SseStream implements SseContext, SseOutboxSink {
  readonly name: string;
  readonly group: string | undefined;
  readonly clientId: string;
  readonly scope: SseScope;
  readonly lastEventId: string | undefined;
  readonly connectedAt = new Date();
  /** Set on every write, cleared by the keep-alive sweep: a connection that stays clear gets a ping. */
  wroteRecently = false;
  private state: 'pending' | 'open' | 'closed' = 'pending';
  private closeListeners: Array<() => void> = [];
  /** Frames of this tick, written together at its end. */
  private readonly outbox = new SseOutbox(this);
  private readonly writer: SseResponseWriter;
  /** Unsent bytes above which the client counts as slow; raised while a replay drains. */
  private bufferLimit: number;
  /** True when the limit is below the response's high-water mark (see writeChunk). */
  private readonly checkEveryWrite: boolean;
  // One callback per connection, not one per keep-alive.
  private readonly afterPing = (error?: Error | null) => {
    if (error) this.abort();
  };

  constructor(
    identity: SseStreamIdentity,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly hooks: SseStreamHooks,
    private readonly delivery: SseDelivery,
    private readonly options: Pick<SseStreamIdentity, 'retry' | 'allowAllOrigins'> = identity,
  ) {
    this.name = identity.name;
    this.group = identity.group;
    this.clientId = identity.clientId;
    this.scope = identity.scope;
    this.lastEventId = identity.lastEventId;
    this.bufferLimit = delivery.maxBufferedBytes;
    this.writer = new SseResponseWriter(response);
    this.checkEveryWrite = this.bufferLimit <= response.writableHighWaterMark;
    // 'close' fires when the client goes away and after our own end().
    response.once('close', () => this.markClosed());
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
    if (this.response.destroyed || this.response.writableEnded) {
      this.markClosed();
      return;
    }
    this.state = 'open';
    const socket = this.request.socket;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    const headers: Record<string, string> = {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      'X-Sse-Client-Id': encodeHeaderValue(this.clientId),
      'X-Sse-Name': encodeHeaderValue(this.name),
    };
    if (this.group !== undefined) headers['X-Sse-Group'] = encodeHeaderValue(this.group);
    // HTTP/2 forbids the Connection header.
    if (this.request.httpVersionMajor < 2) headers['Connection'] = 'keep-alive';
    if (this.options.allowAllOrigins) headers['Access-Control-Allow-Origin'] = '*';
    // Headers the app set through its platform (Fastify's reply) join the head; ours win.
    takeOverResponse(this);
    this.response.removeHeader('Content-Length');
    this.response.writeHead(200, headers);
    this.write(
      encodeProtocolFrame(
        'sse.open',
        { clientId: this.clientId, name: this.name, group: this.group ?? null },
        this.options.retry,
      ),
    );
    // Replay and registration happen in one synchronous step: every event sent
    // before it is in the replay, every later one arrives live, so none is
    // missed or doubled. The client cannot act on sse.open before the step
    // ends, so once it has seen sse.open it can be reached. Listeners of the
    // connect event run last, so what they send follows sse.open and the replay.
    if (this.scope === 'global' && this.lastEventId !== undefined) this.replay(this.lastEventId);
    if (this.isOpen) this.hooks.opened(this);
  }

  /** Writes an encoded frame; false when the connection is closed. Opens a pending connection first. */
  write(frame: Buffer): boolean {
    if (this.state === 'pending') this.open();
    if (!this.isOpen) return false;
    this.wroteRecently = true;
    this.outbox.push(frame);
    this.delivery.counters.bytesWritten += frame.length;
    return true;
  }

  /** Writes the frames of one tick (the outbox calls this). @internal */
  writeChunk(chunk: Buffer): void {
    if (this.state !== 'open') return;
    const belowHighWaterMark = this.writer.write(chunk);
    // Unsent bytes pile up in memory when the client reads slower than we send:
    // past the limit it is cut off (and replays what it missed when it returns).
    // A limit above the high-water mark can only be passed by a write that
    // returned false, so the (costly) length is read only then.
    if (!belowHighWaterMark || this.checkEveryWrite) {
      if (this.response.writableLength > this.bufferLimit) this.dropSlow();
    }
  }

  /** Writes a keep-alive comment; a write that fails (dead peer) closes the connection at once. */
  ping(): void {
    if (!this.isOpen) return;
    if (this.response.destroyed || this.request.socket.destroyed) return this.abort();
    // Whatever waits goes first, so the ping never lands inside this tick's frames.
    this.outbox.flush();
    if (!this.isOpen) return;
    this.response.write(KEEP_ALIVE_FRAME, this.afterPing);
    this.delivery.counters.bytesWritten += KEEP_ALIVE_FRAME.length;
    if (this.response.writableLength > this.bufferLimit) this.dropSlow();
  }

  /** {@inheritDoc SseContext.send} */
  async send<T>(event: SseEvent<T> | SseEvent<T>[]): Promise<void> {
    // Encoded (and so checked) before the stream opens: a bad event while
    // pending still becomes a real HTTP error.
    if (this.scope === 'local') {
      const frame = encodeEvents(event, this.delivery.maxEventBytes);
      if (!this.write(frame)) throw this.closedError();
      this.delivery.counters.eventsSent += Array.isArray(event) ? event.length : 1;
      return;
    }
    const encoded = this.delivery.encode(event);
    // Opened before recording, so that this send is not also part of the opening replay.
    if (this.state === 'pending') this.open();
    if (!this.isOpen) throw this.closedError();
    // Through the transport like any send: recorded in every instance's history, written here.
    await this.delivery.publish({ names: [this.name], clientIds: [this.clientId] }, encoded);
  }

  /** {@inheritDoc SseContext.close} */
  async close(): Promise<void> {
    this.end('server');
  }

  /** Sends `sse.close` with the reason (opening first if needed) and ends the response. */
  end(reason: SseCloseReason): void {
    if (this.state === 'closed') return;
    this.write(encodeProtocolFrame('sse.close', { reason }));
    this.outbox.flush();
    this.response.end();
    this.markClosed();
  }

  /** Sends `sse.error` with a message (never a stack) and ends the response. */
  fail(message: string): void {
    if (this.state === 'closed') return;
    this.write(encodeProtocolFrame('sse.error', { message }));
    this.outbox.flush();
    this.response.end();
    this.markClosed();
  }

  /** Drops a pending connection without writing, so the framework can answer with an error status. */
  discard(): void {
    if (this.state === 'pending') this.markClosed();
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
    const { name, group, clientId, scope, lastEventId, connectedAt } = this;
    return { name, group, clientId, scope, lastEventId, connectedAt };
  }

  /** Writes what a reconnecting client missed, or `sse.gap` when that is no longer known. */
  private replay(lastEventId: string): void {
    const replay = this.delivery.replay(this, lastEventId);
    if (replay.kind === 'gap') {
      this.write(encodeProtocolFrame('sse.gap', { lastEventId, oldestAvailableId: replay.oldestAvailableId }));
      return;
    }
    // The replay is bounded by the history, whose frames are shared: it may
    // exceed the slow-client limit once without counting as slowness.
    let bytes = 0;
    for (const frame of replay.frames) bytes += frame.length;
    this.bufferLimit += bytes;
    for (const frame of replay.frames) this.write(frame);
    // Out now, so that the drain check below sees it.
    this.outbox.flush();
    const restore = () => (this.bufferLimit = this.delivery.maxBufferedBytes);
    if (this.isOpen && this.response.writableNeedDrain) this.response.once('drain', restore);
    else restore();
  }

  private closedError(): SseConnectionClosedError {
    return new SseConnectionClosedError(SseMessages.connectionClosed(this.name, this.clientId));
  }

  /** A client that stopped reading: it could not read an `sse.close` anyway, so it is cut off. */
  private dropSlow(): void {
    this.delivery.counters.slowClientDisconnects++;
    this.abort();
  }

  /** Destroys the socket and closes at once (no need to wait for its 'close' event). */
  private abort(): void {
    this.response.destroy();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    if (wasOpen) this.hooks.closed(this);
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener();
  }
}
