import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeEvents, encodeProtocolFrame } from './sse-frame.encoder.js';
import { SseConnectionClosedError } from './errors/sse-connection-closed.error.js';
import { SseMessages } from './sse.messages.js';
import { takeOverResponse } from './sse-request.js';
import type { SseScope } from './interfaces/sse-broadcast-level.type.js';
import type { SseContext } from './interfaces/sse-context.interface.js';
import type { SseConnectionInfo } from './interfaces/sse-connection-info.interface.js';
import type { SseEvent } from './interfaces/sse-event.interface.js';

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
  /** The module's `maxEventBytes`: larger events are refused by `send`. */
  maxEventBytes: number | undefined;
}

/** Callbacks through which a connection reports to whoever manages it. */
export interface SseStreamHooks {
  /** Called right before `sse.open` is written (global connections register here). */
  beforeOpen(connection: SseStream): void;
  /** Called right after `sse.open` is written: what user code does on connect must follow it. */
  opened(connection: SseStream): void;
  /** Called once, when the connection has closed for any reason. */
  closed(connection: SseStream): void;
}

// Header values must be visible ASCII; anything else travels percent-encoded.
const PLAIN_HEADER_VALUE = /^[\x21-\x7e]*$/;
const headerValue = (value: string): string => (PLAIN_HEADER_VALUE.test(value) ? value : encodeURIComponent(value));

/**
 * One request turned into an event stream. It starts *pending* (nothing written,
 * so an error can still become a real HTTP status), opens on its first event or
 * when its handler returns, and closes once.
 */
export class SseStream implements SseContext {
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

  constructor(
    identity: SseStreamIdentity,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly hooks: SseStreamHooks,
    private readonly options: Pick<SseStreamIdentity, 'retry' | 'allowAllOrigins' | 'maxEventBytes'> = identity,
  ) {
    this.name = identity.name;
    this.group = identity.group;
    this.clientId = identity.clientId;
    this.scope = identity.scope;
    this.lastEventId = identity.lastEventId;
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
      'X-Sse-Client-Id': headerValue(this.clientId),
      'X-Sse-Name': headerValue(this.name),
    };
    if (this.group !== undefined) headers['X-Sse-Group'] = headerValue(this.group);
    // HTTP/2 forbids the Connection header.
    if (this.request.httpVersionMajor < 2) headers['Connection'] = 'keep-alive';
    if (this.options.allowAllOrigins) headers['Access-Control-Allow-Origin'] = '*';
    // Headers the app set through its platform (Fastify's reply) join the head; ours win.
    takeOverResponse(this);
    this.response.removeHeader('Content-Length');
    this.response.writeHead(200, headers);
    // Registered before sse.open is written: a client that saw it can be reached.
    this.hooks.beforeOpen(this);
    this.write(
      encodeProtocolFrame(
        'sse.open',
        { clientId: this.clientId, name: this.name, group: this.group ?? null },
        this.options.retry,
      ),
    );
    this.hooks.opened(this);
  }

  /** Writes an encoded frame; false when the connection is closed. Opens a pending connection first. */
  write(frame: Buffer): boolean {
    if (this.state === 'pending') this.open();
    if (!this.isOpen) return false;
    this.wroteRecently = true;
    this.response.write(frame);
    return true;
  }

  /** {@inheritDoc SseContext.send} */
  async send<T>(event: SseEvent<T> | SseEvent<T>[]): Promise<void> {
    const frame = encodeEvents(event, this.options.maxEventBytes);
    if (!this.write(frame)) {
      throw new SseConnectionClosedError(SseMessages.connectionClosed(this.name, this.clientId));
    }
  }

  /** {@inheritDoc SseContext.close} */
  async close(): Promise<void> {
    this.end('server');
  }

  /** Sends `sse.close` with the reason (opening first if needed) and ends the response. */
  end(reason: SseCloseReason): void {
    if (this.state === 'closed') return;
    this.write(encodeProtocolFrame('sse.close', { reason }));
    this.response.end();
    this.markClosed();
  }

  /** Sends `sse.error` with a message (never a stack) and ends the response. */
  fail(message: string): void {
    if (this.state === 'closed') return;
    this.write(encodeProtocolFrame('sse.error', { message }));
    this.response.end();
    this.markClosed();
  }

  /** Drops a pending connection without writing, so the framework can answer with an error status. */
  discard(): void {
    if (this.state === 'pending') this.markClosed();
  }

  /** Runs `listener` once when the connection closes, pending or open (at once if it already has). */
  onClose(listener: () => void): void {
    if (this.state === 'closed') listener();
    else this.closeListeners.push(listener);
  }

  /** A snapshot of the identity, safe to hand to user code. */
  info(): SseConnectionInfo {
    const { name, group, clientId, scope, lastEventId, connectedAt } = this;
    return { name, group, clientId, scope, lastEventId, connectedAt };
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
