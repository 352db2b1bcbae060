import http from 'node:http';
import net from 'node:net';
import { SseParser, type EventSourceMessage } from './sse-parser.js';

/** What came back for a request that a test expects NOT to become a stream. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** True when the server answered with an event stream (the connection was then dropped by us). */
  stream: boolean;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Bind the client socket to this local address (e.g. 127.0.0.2, to look like another host). */
  localAddress?: string;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
}

/**
 * One plain node:http request, for what fetch cannot send (a GET with a body,
 * HEAD, arbitrary methods, headers of any size, another local address).
 * Resolves with the whole answer, or at the head when the answer is a stream.
 */
export function rawHttp(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      localAddress: options.localAddress,
      agent: false,
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const stream = String(response.headers['content-type']).startsWith('text/event-stream') && options.method !== 'HEAD';
      if (stream) {
        resolve({ status, headers: response.headers, body: '', stream: true });
        request.destroy();
        return;
      }
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status, headers: response.headers, body, stream: false }));
      response.on('error', reject);
    });
    request.on('error', reject);
    if (options.body !== undefined && options.chunked) {
      request.setHeader('transfer-encoding', 'chunked');
      request.write(options.body);
      request.end();
    } else {
      // Node's client frames a GET body neither by length nor by chunks unless told to.
      if (options.body !== undefined) request.setHeader('content-length', Buffer.byteLength(options.body));
      request.end(options.body);
    }
  });
}

export interface RawStreamOptions {
  /** Request headers (`Accept: text/event-stream` unless given). */
  headers?: Record<string, string>;
  /** Ask as HTTP/1.0 (no chunked encoding in the answer). */
  http10?: boolean;
  /** Called for every event of the body, in order, as it is parsed. */
  onEvent?: (event: EventSourceMessage, stream: RawStream) => void;
  /** Called once the status line and headers have arrived. */
  onHead?: (status: number, stream: RawStream) => void;
  /** Keep the bytes as text in `raw` and `body` (default true); the events are parsed either way. */
  keepBytes?: boolean;
}

/**
 * A GET over a bare TCP socket, for what must be seen or done below HTTP:
 * the answer's bytes as they came (`raw`), its chunk framing (`chunks`: one
 * non-empty HTTP chunk per write), a reset in the middle of a frame. The body
 * (de-chunked) goes through the shared `SseParser`, so events are read the
 * way every other suite reads them.
 */
export class RawStream {
  /** Everything received, head included, as latin1 text. */
  raw = '';
  /** The body after de-chunking, as latin1 text. */
  body = '';
  status = 0;
  /** Non-empty HTTP chunks of the body so far (chunked answers only). */
  chunks = 0;
  /** Bytes received, head included. */
  bytes = 0;
  closed = false;
  /** The socket error, if the socket ended with one. */
  error: NodeJS.ErrnoException | undefined;
  readonly parser: SseParser;
  /** Resolves when the socket has closed. */
  readonly ended: Promise<void>;
  private head: Buffer | undefined = Buffer.alloc(0);
  private chunked = false;
  private pending = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(
    readonly socket: net.Socket,
    private readonly options: RawStreamOptions,
  ) {
    this.parser = new SseParser({ onEvent: (event) => options.onEvent?.(event, this) });
    socket.on('data', (data: Buffer) => this.receive(data));
    socket.on('error', (error: NodeJS.ErrnoException) => (this.error = error));
    this.ended = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.notify();
        resolve();
      }),
    );
  }

  /** Connects and sends `GET path` with the headers; the socket stays open until closed by either side. */
  static open(url: string, options: RawStreamOptions = {}): RawStream {
    const { hostname, port, pathname, search } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    const headers = { host: hostname, accept: 'text/event-stream', ...options.headers };
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`GET ${pathname}${search} HTTP/${options.http10 ? '1.0' : '1.1'}\r\n${lines.join('')}\r\n`);
    return new RawStream(socket, options);
  }

  get events(): EventSourceMessage[] {
    return this.parser.events;
  }

  /** Resolves once `predicate` holds (re-checked on every read); rejects when the socket closed first, or after `timeoutMs`. */
  waitFor<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (): boolean => {
        const value = predicate();
        if (!value && !this.closed) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== settle);
        if (value) resolve(value);
        else reject(new Error(`the socket closed waiting for ${what}; got ${JSON.stringify(this.raw.slice(0, 300))}`));
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== settle);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.raw.slice(0, 300))}`));
      }, timeoutMs);
      if (!settle()) this.waiters.push(settle);
    });
  }

  /** Waits for the first event of a type (`message` for untyped). */
  next(type = 'message'): Promise<EventSourceMessage> {
    return this.waitFor(() => this.events.find((event) => (event.event ?? 'message') === type), `event ${type}`);
  }

  /** Closes the socket (FIN). */
  close(): void {
    this.socket.destroy();
  }

  /** Resets the socket (RST): the server sees the client vanish mid-stream. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  private receive(data: Buffer): void {
    this.bytes += data.length;
    if (this.options.keepBytes !== false) this.raw += data.toString('latin1');
    if (this.head !== undefined) {
      this.head = Buffer.concat([this.head, data]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return this.notify();
      const head = this.head.subarray(0, end).toString('latin1');
      this.status = Number(head.split(' ')[1]);
      this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
      data = this.head.subarray(end + 4);
      this.head = undefined;
      this.options.onHead?.(this.status, this);
    }
    if (this.chunked) this.dechunk(data);
    else this.bodyBytes(data);
    this.notify();
  }

  private dechunk(data: Buffer): void {
    this.pending = Buffer.concat([this.pending, data]);
    for (;;) {
      const lineEnd = this.pending.indexOf('\r\n');
      if (lineEnd < 0) return;
      const size = parseInt(this.pending.subarray(0, lineEnd).toString('latin1'), 16);
      if (this.pending.length < lineEnd + 2 + size + 2) return;
      if (size > 0) {
        this.chunks++;
        this.bodyBytes(this.pending.subarray(lineEnd + 2, lineEnd + 2 + size));
      }
      this.pending = this.pending.subarray(lineEnd + 2 + size + 2);
    }
  }

  private bodyBytes(bytes: Buffer): void {
    if (this.options.keepBytes !== false) this.body += bytes.toString('latin1');
    this.parser.feed(bytes);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
