import http from 'node:http';
import http2, { type ClientHttp2Session } from 'node:http2';
import { constants, createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { SseParser, type EventSourceMessage } from './sse-parser.js';

export type { EventSourceMessage };

export interface SseClientOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /**
   * Keep every event in `events` (default true). With false, untyped events
   * (`message`) are not kept, typed ones (`sse.open`, ...) still are: streams
   * of many megabytes watch messages through `onEvent`, `received`, `lastEventId`.
   */
  keepEvents?: boolean;
  /** Called for every event, in order, as it is parsed. */
  onEvent?: (event: EventSourceMessage) => void;
}

/**
 * A real SSE client over a real socket: node:http for the request and the
 * shared spec-compliant parser (`SseParser`) for the stream. It records
 * everything and lets a test wait for what it expects (no sleeps); a wait
 * fails at once when the stream has ended without what it waits for.
 */
export class SseClient {
  readonly events: EventSourceMessage[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  /** The body of a response that is not an event stream (an error answer). */
  body = '';
  /** Every byte of an event stream as text, in arrival order (to check framing); not with `keepEvents: false`. */
  raw = '';
  ended = false;
  /** Events parsed so far (counted even when `keepEvents` is false). */
  received = 0;
  /** The last event id seen, as a browser keeps it for `Last-Event-ID`. */
  lastEventId: string | undefined;
  /** Bytes of the body as they came off the wire (compressed ones before decoding). */
  wireBytes = 0;
  /** Set when a gzip stream did not decode (a corrupt block, a wrong CRC or length in its trailer). */
  decodingError: Error | undefined;
  private waiters: Array<() => void> = [];
  /** Closes the request from the client side. */
  private cancel: () => void = () => undefined;
  private source: Readable | undefined;
  private endedPromise!: Promise<void>;

  /** Opens the request; resolves once the response head has arrived. */
  static open(url: string, options: SseClientOptions = {}): Promise<SseClient> {
    const client = new SseClient();
    return client.startHttp1(url, options).then(() => client);
  }

  /** Opens the request as a stream of an HTTP/2 session (many on one session); resolves at the response head. */
  static overHttp2(session: ClientHttp2Session, path: string, options: SseClientOptions = {}): Promise<SseClient> {
    const client = new SseClient();
    return client.startHttp2(session, path, options).then(() => client);
  }

  private startHttp1(url: string, options: SseClientOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = http.request(url, {
        method: options.method ?? 'GET',
        headers: { accept: 'text/event-stream', ...options.headers },
        agent: false,
      });
      this.cancel = () => request.destroy();
      this.endedPromise = new Promise((resolveEnded) => {
        request.on('response', (response) => {
          this.receive(response, response.statusCode ?? 0, response.headers, () => response.complete, options, resolveEnded);
          resolve();
        });
        request.on('error', (error) => this.failed(error, reject, resolveEnded));
      });
      request.end(options.body);
    });
  }

  private startHttp2(session: ClientHttp2Session, path: string, options: SseClientOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = session.request({ ':method': options.method ?? 'GET', ':path': path, accept: 'text/event-stream', ...options.headers });
      // RST_STREAM for this stream only: the session and its other streams go on.
      this.cancel = () => stream.close(http2.constants.NGHTTP2_CANCEL);
      this.endedPromise = new Promise((resolveEnded) => {
        stream.on('response', (headers) => {
          // A response head's pseudo-headers (`:status`) are left out: what an HTTP/1.1 client would see.
          const plain = Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':')));
          this.receive(stream, Number(headers[':status']), plain, () => stream.readableEnded, options, resolveEnded);
          resolve();
        });
        stream.on('error', (error) => this.failed(error, reject, resolveEnded));
      });
      stream.end(options.body);
    });
  }

  /** A request that failed: before its head, the open fails; after it, the stream has ended. */
  private failed(error: Error, reject: (error: Error) => void, resolveEnded: () => void): void {
    if (this.status === 0) reject(error);
    this.push(() => (this.ended = true));
    resolveEnded();
  }

  /** Reads a response body (either HTTP version): decodes gzip, parses the stream, records the end. */
  private receive(
    response: Readable,
    status: number,
    headers: http.IncomingHttpHeaders,
    complete: () => boolean,
    options: SseClientOptions,
    resolveEnded: () => void,
  ): void {
    this.status = status;
    this.headers = headers;
    const isStream = String(headers['content-type']).startsWith('text/event-stream');
    const parser = new SseParser({
      keepEvents: false,
      onEvent: (event) =>
        this.push(() => {
          this.received++;
          if (event.id !== undefined) this.lastEventId = event.id;
          options.onEvent?.(event);
          if (options.keepEvents !== false || event.event !== undefined) this.events.push(event);
        }),
      onComment: (comment) => this.push(() => this.comments.push(comment)),
      onRetry: (retry) => (this.retry = retry),
    });
    response.on('data', (chunk: Buffer) => (this.wireBytes += chunk.length));
    // Decoded as a browser does, each flushed block at once (Content-Encoding: gzip on compressed streams).
    let body: Readable = response;
    if (headers['content-encoding'] === 'gzip') {
      body = response.pipe(createGunzip({ flush: constants.Z_SYNC_FLUSH }));
      body.on('error', (error) => (this.decodingError = error));
    }
    this.source = response;
    const decoder = new StringDecoder('utf8');
    body.on('data', (bytes: Buffer) => {
      const chunk = decoder.write(bytes);
      if (!isStream) {
        this.body += chunk;
        return;
      }
      // Megabyte streams (keepEvents: false) are not kept as text either.
      if (options.keepEvents !== false) this.raw += chunk;
      parser.feed(chunk);
    });
    const finish = () => {
      if (this.ended) return;
      this.push(() => (this.ended = true));
      resolveEnded();
    };
    body.on('end', finish);
    response.on('close', () => {
      // A compressed stream that ended whole finishes once its trailer is decoded; a cut one at once.
      if (body === response || !complete()) {
        if (body !== response) body.destroy();
        finish();
      }
    });
    body.on('error', finish);
    response.on('error', finish);
  }

  /**
   * Resolves once `predicate` holds, re-checked after every event, comment or
   * end. Rejects at once when the stream has ended and it still does not hold
   * (nothing can arrive any more), else after `timeoutMs`.
   */
  waitFor<T>(predicate: () => T | undefined | false, what = 'condition', timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== listener);
        const body = this.body ? ` and body ${JSON.stringify(this.body.slice(0, 200))}` : '';
        reject(new Error(`${why} waiting for ${what}; got status ${this.status}, events ${JSON.stringify(this.events.map((e) => e.event ?? e.data))}${body}`));
      };
      const check = (): boolean => {
        const value = predicate();
        if (value) {
          clearTimeout(timer);
          resolve(value);
          return true;
        }
        if (this.ended) {
          fail('the stream ended');
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => fail('timed out'), timeoutMs);
      const listener = () => {
        if (check()) this.waiters = this.waiters.filter((waiter) => waiter !== listener);
      };
      if (!check()) this.waiters.push(listener);
    });
  }

  /** Waits for the first event of a type (`message` for untyped) after `from` events. */
  next(type = 'message', from = 0): Promise<EventSourceMessage> {
    return this.waitFor(
      () => this.events.slice(from).find((event) => (event.event ?? 'message') === type),
      `event ${type}`,
    );
  }

  /** Waits until `count` events of a type have arrived; returns them. */
  async collect(type: string, count: number): Promise<EventSourceMessage[]> {
    return this.waitFor(() => {
      const found = this.eventsOf(type);
      return found.length >= count ? found : undefined;
    }, `${count} events of type ${type}`);
  }

  eventsOf(type: string): EventSourceMessage[] {
    return this.events.filter((event) => (event.event ?? 'message') === type);
  }

  /** The data of `sse.open`, JSON-decoded. */
  async opened(): Promise<{ clientId: string; name: string; group: string | null; groups: string[]; user?: string }> {
    return JSON.parse((await this.next('sse.open')).data);
  }

  /** Resolves when the server has ended the response (or the socket closed). */
  end(): Promise<void> {
    return this.endedPromise;
  }

  /** Waits for the next event of a type and returns its data JSON-decoded. */
  async nextJson<T = unknown>(type = 'message', from = 0): Promise<T> {
    return JSON.parse((await this.next(type, from)).data) as T;
  }

  /** The `data` of every event of a type received so far. */
  dataOf(type = 'message'): string[] {
    return this.eventsOf(type).map((event) => event.data);
  }

  /** Stops reading: the socket's buffers fill up and the server sees a stalled client. */
  pause(): void {
    this.source?.pause();
  }

  /** Reads again after `pause()`. */
  resume(): void {
    this.source?.resume();
  }

  /** Closes the connection from the client side. */
  close(): void {
    this.cancel();
  }

  private push(record: () => unknown): void {
    record();
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** A client past its `sse.open`, with what `sse.open` said. */
export interface Connected {
  client: SseClient;
  clientId: string;
  name: string;
  group: string | null;
}

/** Opens clients and closes them all at once (in `afterEach` / `afterAll`), so no socket outlives a test. */
export class SseClientPool {
  private readonly clients: SseClient[] = [];

  /** `SseClient.open`, remembered for `closeAll()`. */
  async open(url: string, options: SseClientOptions = {}): Promise<SseClient> {
    const client = await SseClient.open(url, options);
    this.clients.push(client);
    return client;
  }

  /** Opens a client and waits for its `sse.open`; returns both (fails at once when the answer is no stream). */
  async connect(url: string, options: SseClientOptions = {}): Promise<Connected> {
    const client = await this.open(url, options);
    return { client, ...(await client.opened()) };
  }

  /** Closes every client opened so far from the client side and waits until their sockets are gone. */
  async closeAll(): Promise<void> {
    const clients = this.clients.splice(0);
    for (const client of clients) client.close();
    await Promise.all(clients.map((client) => client.end()));
  }
}
