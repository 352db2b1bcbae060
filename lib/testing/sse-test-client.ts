// Named imports: a default import would need esModuleInterop in the user's project to type-check.
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { DEFAULT_TEST_CLIENT_TIMEOUT_MS, SSE_HEADERS } from '../sse.constants.js';
import { SseTestClientError } from '../errors/sse-test-client.error.js';
import { SseMessages } from '../sse.messages.js';
import { loadEventSourceParser } from './load-event-parser.js';
import { baseUrlOf, type SseTestServer } from './sse-test-server.js';
import { testEvent, type SseTestEvent, type SseTestOpenData } from './sse-test-event.js';

/** Options of `SseTestClient.connect`. */
export interface SseTestClientOptions {
  /** `GET` (default) or `POST`. */
  method?: 'GET' | 'POST';
  /** Request headers (`Accept: text/event-stream` is sent unless given). */
  headers?: Record<string, string>;
  /** A POST body: a string as is, anything else as JSON (with its content type). */
  body?: unknown;
  /** Sent as `Last-Event-ID`, as a browser resuming a stream would. */
  lastEventId?: string;
  /** How long `next`, `collect`, `opened` and `ended` wait by default, in ms. Default 5000. */
  timeoutMs?: number;
}

/** A per-call wait, overriding the client's `timeoutMs`. */
export interface SseTestWaitOptions {
  timeoutMs?: number;
}

/** Options of `reconnect`. */
export interface SseTestReconnectOptions {
  /** The `Last-Event-ID` to offer; default the last id received (as a browser does). */
  lastEventId?: string;
  /** Also offer the previous connection's client id (`X-Sse-Client-Id`), which a browser's EventSource cannot. */
  keepClientId?: boolean;
}

/** One request and its response. */
interface Exchange {
  readonly request: ClientRequest;
  /** Index in `events` where this response's events start. */
  readonly start: number;
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ended: boolean;
  readonly done: Promise<void>;
}

/**
 * A Server-Sent Events client for testing an app that uses the hub (from
 * `nestjs-sse-hub/testing`): a real request over `node:http`, the stream read
 * by `eventsource-parser` (as a browser would), and waits that resolve as soon
 * as what a test expects has arrived, reject after a timeout, and reject at
 * once when the stream ends first. No test-runner globals: it works in Jest,
 * Vitest and `node:test` alike. `Events` types the stream: event type → what
 * its data decodes to (an interface or a type), e.g. `{ clock: { now: string } }`.
 *
 * @example
 * ```ts
 * const client = await SseTestClient.connect<{ clock: { now: string } }>(app, '/events');
 * const { clientId } = await client.opened();
 * const tick = await client.next('clock');      // SseTestEvent<{ now: string }>
 * expect(tick.json().now).toBeDefined();
 * await client.reconnect();                      // same URL, Last-Event-ID: the last id received
 * await client.close();
 * ```
 */
export class SseTestClient<Events extends object = object> {
  /** Every event received, in order, across reconnections (`sse.open`, `sse.close`... included). */
  readonly events: SseTestEvent[] = [];
  /** Every comment line received (keep-alives are `ping`). */
  readonly comments: string[] = [];
  /** The last `retry:` the server sent. */
  retry: number | undefined;
  private lastId: string | undefined;
  private exchange!: Exchange;
  private readonly cursors = new Map<string, number>();
  private waiters: Array<() => void> = [];
  private readonly timeoutMs: number;

  private constructor(
    /** The stream's URL. */
    readonly url: URL,
    private readonly options: SseTestClientOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TEST_CLIENT_TIMEOUT_MS;
    this.lastId = options.lastEventId;
  }

  /**
   * Opens `path` on `server` (a listening Nest app, an `http.Server` or a base
   * URL); resolves once the response head has arrived, whatever its status
   * (check `status`; a refused stream's answer is in `body`). Rejects with
   * `SseTestClientError` when the request fails.
   */
  static async connect<Events extends object = object>(
    server: SseTestServer,
    path: string,
    options: SseTestClientOptions = {},
  ): Promise<SseTestClient<Events>> {
    const client = new SseTestClient<Events>(new URL(path, await baseUrlOf(server)), options);
    await client.open(options.lastEventId, {});
    return client;
  }

  /** The current response's status (200 for a stream). */
  get status(): number {
    return this.exchange.status;
  }

  /** The current response's headers (`x-sse-client-id`, `x-sse-name`...). */
  get headers(): IncomingHttpHeaders {
    return this.exchange.headers;
  }

  /** The body of a response that is not an event stream (an error answer). */
  get body(): string {
    return this.exchange.body;
  }

  /** True once the current response has ended (the server closed it, or `close()`). */
  get isEnded(): boolean {
    return this.exchange.ended;
  }

  /** The last event id received, which a reconnection offers as `Last-Event-ID`. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** The events of one type received so far. */
  eventsOf<K extends keyof Events & string>(type: K): SseTestEvent<Events[K]>[];
  eventsOf(type: string): SseTestEvent[];
  eventsOf(type: string): SseTestEvent[] {
    return this.events.filter((event) => event.type === type);
  }

  /** The current connection's `sse.open` data (waits for it). */
  async opened(options: SseTestWaitOptions = {}): Promise<SseTestOpenData> {
    const start = this.exchange.start;
    const event = await this.until(() => this.events.slice(start).find((e) => e.type === 'sse.open'), 'sse.open', options);
    return event.json() as SseTestOpenData;
  }

  /**
   * The next event of `type` (of any type without one): each call returns the
   * following one, whether it has already arrived or not, so successive calls
   * walk through the stream once. Rejects with `SseTestClientError` after the
   * timeout, or as soon as the response ends without it.
   */
  next<K extends keyof Events & string>(type: K, options?: SseTestWaitOptions): Promise<SseTestEvent<Events[K]>>;
  next(type?: string, options?: SseTestWaitOptions): Promise<SseTestEvent>;
  async next(type?: string, options: SseTestWaitOptions = {}): Promise<SseTestEvent> {
    const key = type ?? '*';
    const found = await this.until(() => this.find(key, 1)?.[0], type === undefined ? 'event' : `"${type}" event`, options);
    this.cursors.set(key, this.events.indexOf(found, this.cursors.get(key) ?? 0) + 1);
    return found;
  }

  /** The next `count` events of `type`, as `next` would return them one by one. */
  collect<K extends keyof Events & string>(type: K, count: number, options?: SseTestWaitOptions): Promise<SseTestEvent<Events[K]>[]>;
  collect(type: string, count: number, options?: SseTestWaitOptions): Promise<SseTestEvent[]>;
  async collect(type: string, count: number, options: SseTestWaitOptions = {}): Promise<SseTestEvent[]> {
    const found = await this.until(() => this.find(type, count), `${count} "${type}" events`, options);
    this.cursors.set(type, this.events.indexOf(found[found.length - 1]) + 1);
    return found;
  }

  /** Resolves once the server has ended the current response (or the socket closed). */
  async ended(options: SseTestWaitOptions = {}): Promise<void> {
    await this.until(() => this.exchange.ended, 'the end of the response', options, false);
  }

  /**
   * Reconnects as a browser does: closes the current response and requests
   * the same URL again with `Last-Event-ID` (the last id received, unless
   * given). Resolves once the new response head has arrived; the events
   * keep accumulating in `events`.
   */
  async reconnect(options: SseTestReconnectOptions = {}): Promise<void> {
    const clientId = this.exchange.headers[SSE_HEADERS.clientId];
    await this.close();
    const extra: Record<string, string> = {};
    if (options.keepClientId && typeof clientId === 'string') extra[SSE_HEADERS.clientId] = decodeURIComponent(clientId);
    await this.open(options.lastEventId ?? this.lastId, extra);
  }

  /** Closes the connection from the client side and waits until its socket is gone. */
  async close(): Promise<void> {
    this.exchange.request.destroy();
    await this.exchange.done;
  }

  private async open(lastEventId: string | undefined, extra: Record<string, string>): Promise<void> {
    const { createParser } = await loadEventSourceParser();
    const { method = 'GET', headers = {}, body } = this.options;
    const text = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
    const requestHeaders: Record<string, string> = { accept: 'text/event-stream', ...headers, ...extra };
    if (text !== undefined && typeof body !== 'string') requestHeaders['content-type'] ??= 'application/json';
    if (lastEventId !== undefined) requestHeaders[SSE_HEADERS.lastEventId] = lastEventId;

    const request = httpRequest(this.url, { method, headers: requestHeaders, agent: false });
    let finish!: () => void;
    const exchange: Exchange = {
      request,
      start: this.events.length,
      status: 0,
      headers: {},
      body: '',
      ended: false,
      done: new Promise<void>((resolve) => (finish = resolve)),
    };
    this.exchange = exchange;
    const end = () => {
      if (exchange.ended) return;
      exchange.ended = true;
      finish();
      this.wake();
    };
    // Events of an exchange that was replaced (a reconnect) are not this stream's any more.
    const current = () => this.exchange === exchange;
    const parser = createParser({
      onEvent: (message) => {
        if (!current()) return;
        if (message.id !== undefined) this.lastId = message.id;
        this.events.push(testEvent(message.event, message.data, message.id));
        this.wake();
      },
      onComment: (comment) => {
        if (!current()) return;
        this.comments.push(comment.trim());
        this.wake();
      },
      onRetry: (retry) => (this.retry = retry),
    });

    await new Promise<void>((resolve, reject) => {
      request.on('response', (response) => {
        exchange.status = response.statusCode ?? 0;
        exchange.headers = response.headers;
        const isStream = String(response.headers['content-type']).startsWith('text/event-stream');
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (isStream) parser.feed(chunk);
          else exchange.body += chunk;
        });
        response.on('end', end);
        response.on('close', end);
        response.on('error', end);
        resolve();
      });
      request.on('error', (error) => {
        if (exchange.status === 0) reject(new SseTestClientError(SseMessages.testingRequestFailed(this.url.href, error.message)));
        end();
      });
      request.end(text);
    });
  }

  /** The next `count` events of a type (any type for `'*'`) after its cursor, or undefined while there are fewer. */
  private find(type: string, count: number): SseTestEvent[] | undefined {
    const found: SseTestEvent[] = [];
    for (let i = this.cursors.get(type) ?? 0; i < this.events.length && found.length < count; i++) {
      if (type === '*' || this.events[i].type === type) found.push(this.events[i]);
    }
    return found.length === count ? found : undefined;
  }

  /** Resolves with `probe()`'s value once it has one; rejects after the timeout, or when the response ends first. */
  private until<T>(probe: () => T | undefined | false, what: string, options: SseTestWaitOptions, failOnEnd = true): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const value = probe();
        if (value) {
          settle();
          resolve(value);
          return true;
        }
        if (failOnEnd && this.exchange.ended) {
          settle();
          reject(new SseTestClientError(SseMessages.testingStreamEnded(what, this.exchange.status, this.received())));
          return true;
        }
        return false;
      };
      const settle = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== listener);
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        settle();
        reject(new SseTestClientError(SseMessages.testingTimedOut(what, timeoutMs, this.received())));
      }, timeoutMs);
      if (!check()) this.waiters.push(listener);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** What arrived, for error messages: each type with its count, in order of first arrival. */
  private received(): string {
    const counts = new Map<string, number>();
    for (const event of this.events) counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
    return [...counts].map(([type, count]) => (count === 1 ? type : `${type} ×${count}`)).join(', ');
  }
}
