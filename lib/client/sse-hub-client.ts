import { SseStreamParser } from './sse-stream-parser.js';
import { reconnectDelay, retryAfterMs } from './reconnect-delay.js';
import { DEFAULT_RETRY_MS, SSE_QUERY } from '../sse.constants.js';

/** Default cap of the backoff between attempts (ms). */
const DEFAULT_MAX_RETRY_MS = 30_000;

/** `sse.open` data: who the server says this client is. */
export interface SseOpenInfo {
  clientId: string;
  name: string;
  group: string | null;
  groups: string[];
  user?: string;
  /** The resumable stream this connection produces or follows (README, "Streaming an answer"). */
  streamId?: string;
}

/** `sse.gap` data: the topics that lost events this client needed (what is still held follows). */
export interface SseGapInfo {
  lastEventId: string;
  oldestAvailableId: string | null;
  topics: Array<Record<string, string>>;
}

/** Why the client stopped for good (`onClose`). */
export interface SseCloseInfo {
  /**
   * `server`: `sse.close` with `reconnect: false`; `replaced`: the same client
   * id connected elsewhere; `stopped`: a `204`; `status`: a 4xx (but 408) or
   * an answer that is not an event stream (see `status`); `client`: `close()`;
   * another `sse.close` reason that does not ask the client back, as it came.
   */
  reason: 'server' | 'replaced' | 'stopped' | 'status' | 'client' | (string & {});
  /** The HTTP status, for `stopped` and `status`. */
  status?: number;
}

/** A reconnect the client has scheduled (`onRetry`). */
export interface SseRetryInfo {
  /** Milliseconds until it reconnects. */
  delay: number;
  /**
   * Why: an `sse.close` reason (`shutdown`, `rotate`, `overloaded`, `server`),
   * `status` (a 5xx, 408 or another non-200 answer, see `status`), or `network`
   * (the request failed or the stream ended without `sse.close`).
   */
  reason: string;
  status?: number;
}

/** One received event, as `on` handlers get it after its decoded data. */
export interface SseMessage {
  type: string;
  /** The `data` as it came (the handler's first argument is it JSON-decoded). */
  data: string;
  /** The last event id once this event arrived. */
  lastEventId: string;
}

/** Options of `connect`. */
export interface SseConnectOptions {
  /** `GET` (default) or `POST`. */
  method?: 'GET' | 'POST';
  /** Extra request headers (they make a cross-origin request preflighted). */
  headers?: Record<string, string>;
  /** A `POST` body, sent again with every reconnect. */
  body?: string;
  /** Sends cookies cross-origin too (`credentials: 'include'`), as EventSource's `withCredentials`. */
  withCredentials?: boolean;
  /** A client id to offer (e.g. kept from an earlier page); by default the server's, from the first `sse.open`. */
  clientId?: string;
  /** Resume after this event id. */
  lastEventId?: string;
  /** Milliseconds of the first reconnect delay until the server sends `retry:`. Default 3000. */
  retry?: number;
  /** Longest delay of the backoff, in milliseconds. Default 30000. */
  maxRetry?: number;
  /** Every time a stream opens (`sse.open`), after reconnects too. */
  onOpen?(open: SseOpenInfo): void;
  /** When the server could not replay everything missed (`sse.gap`). */
  onGap?(gap: SseGapInfo): void;
  /** When a reconnect is scheduled. */
  onRetry?(retry: SseRetryInfo): void;
  /** Once, when the client stops for good. */
  onClose?(close: SseCloseInfo): void;
}

/** The event types a client listens to: the map's, or any string when the map is untyped. */
export type SseEventType<Events> = [keyof Events] extends [never] ? string : string extends keyof Events ? string : keyof Events & string;

/** The payload type of event type `K`. */
export type SseEventData<Events, K> = K extends keyof Events ? Events[K] : unknown;

/** What `connect` returns. */
export interface SseHubClient<Events extends object = Record<string, unknown>> {
  /** The client id, from the options or the first `sse.open`; offered again on every reconnect. */
  readonly clientId: string | undefined;
  /** The last event id received; offered on every reconnect (`''`: none yet). */
  readonly lastEventId: string;
  /** `connecting` (also between reconnects), `open`, or `closed` (for good). */
  readonly state: 'connecting' | 'open' | 'closed';
  /**
   * Calls `handler` with each event of `type`: its data JSON-decoded (a text
   * that is not JSON stays a string) and the event. Returns a function that
   * removes the handler.
   */
  on<K extends SseEventType<Events>>(type: K, handler: (data: SseEventData<Events, K>, event: SseMessage) => void): () => void;
  /** Stops for good (`onClose` with reason `client`). */
  close(): void;
}

type Handler = (data: unknown, event: SseMessage) => void;
type Outcome = { stop: SseCloseInfo } | { delay: number; reason: string; status?: number };

// Reasons after which the server expects the client back after exactly its (spread) `retry:`
// (the server's come-back reasons, sse-come-back.ts, and `server`, which allows a reconnect).
const COME_BACK = ['server', 'shutdown', 'rotate', 'overloaded'];

/** Runs page code so that its exception is reported (as a listener's would be) and never breaks the stream. */
function safely<T>(callback: ((value: T) => void) | undefined, value: T): void {
  try {
    callback?.(value);
  } catch (error) {
    setTimeout(() => {
      throw error;
    });
  }
}

const decode = (data: string): unknown => {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
};

class Client {
  clientId: string | undefined;
  lastEventId: string;
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  private readonly handlers = new Map<string, Set<Handler>>();
  private retry: number;
  private attempt = 0;
  private abort: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly options: SseConnectOptions,
  ) {
    this.clientId = options.clientId;
    this.lastEventId = options.lastEventId ?? '';
    this.retry = options.retry ?? DEFAULT_RETRY_MS;
    void this.run();
  }

  on(type: string, handler: Handler): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  close(): void {
    this.finish({ reason: 'client' });
  }

  /** One connection: request, read, then stop or schedule the next one. */
  private async run(): Promise<void> {
    const abort = (this.abort = new AbortController());
    let outcome: Outcome;
    try {
      outcome = await this.read(await fetch(this.streamUrl(), this.request(abort.signal)));
    } catch {
      outcome = this.backoff('network');
    }
    if (abort.signal.aborted) return;
    if ('stop' in outcome) return this.finish(outcome.stop);
    this.state = 'connecting';
    safely(this.options.onRetry, outcome);
    this.timer = setTimeout(() => void this.run(), outcome.delay);
  }

  /** The URL with the client id and last event id as query parameters: no custom header, so no CORS preflight. */
  private streamUrl(): string {
    const url = new URL(this.url, (globalThis as { location?: { href: string } }).location?.href);
    if (this.clientId) url.searchParams.set(SSE_QUERY.clientId, this.clientId);
    if (this.lastEventId) url.searchParams.set(SSE_QUERY.lastEventId, this.lastEventId);
    return String(url);
  }

  private request(signal: AbortSignal): RequestInit {
    const { method = 'GET', headers, body, withCredentials } = this.options;
    return {
      method,
      body,
      signal,
      headers: { accept: 'text/event-stream', ...headers },
      credentials: withCredentials ? 'include' : 'same-origin',
    };
  }

  /** Reads one answer to its end; says what comes next. */
  private async read(response: Response): Promise<Outcome> {
    const { status } = response;
    if (status !== 200 || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
      void response.body?.cancel().catch(() => undefined);
      if (status === 204) return { stop: { reason: 'stopped', status } };
      // A client error repeats itself (a bad id, no access, too many tabs): say so rather than poll.
      if ((status >= 400 && status < 500 && status !== 408) || status === 200) return { stop: { reason: 'status', status } };
      return this.backoff('status', status, retryAfterMs(response.headers.get('retry-after')));
    }
    let closing: { reason: string; reconnect?: boolean } | undefined;
    const parser = new SseStreamParser(
      (type, data) => {
        this.lastEventId = parser.lastEventId;
        if (type === 'sse.open') {
          const open = JSON.parse(data) as SseOpenInfo;
          this.clientId = open.clientId;
          this.state = 'open';
          this.attempt = 0;
          safely(this.options.onOpen, open);
        } else if (type === 'sse.gap') safely(this.options.onGap, JSON.parse(data) as SseGapInfo);
        else if (type === 'sse.close') closing = JSON.parse(data);
        else this.dispatch({ type, data, lastEventId: this.lastEventId });
      },
      (ms) => (this.retry = ms),
      this.lastEventId,
    );
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      parser.feed(decoder.decode(chunk.value, { stream: true }));
    }
    this.lastEventId = parser.lastEventId;
    if (!closing) return this.backoff('network');
    const { reason, reconnect } = closing;
    if (reconnect === false || !COME_BACK.includes(reason)) return { stop: { reason } };
    return { delay: this.retry, reason };
  }

  private backoff(reason: string, status?: number, retryAfter?: number): Outcome {
    return { delay: reconnectDelay(this.attempt++, this.retry, this.options.maxRetry ?? DEFAULT_MAX_RETRY_MS, retryAfter), reason, status };
  }

  private dispatch(event: SseMessage): void {
    const handlers = this.handlers.get(event.type);
    if (!handlers) return;
    const data = decode(event.data);
    for (const handler of handlers) safely((value: unknown) => handler(value, event), data);
  }

  private finish(close: SseCloseInfo): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.timer);
    this.abort?.abort();
    safely(this.options.onClose, close);
  }
}

/**
 * Opens an event stream of a `nestjs-sse-hub` route and keeps it open: after
 * a drop or a refusal (503 included) it reconnects with the same client id
 * and the last event id, so that replay stays exact, with exponential
 * backoff and full jitter (never sooner than `Retry-After`), or after exactly
 * the `retry:` the server sent with `sse.close` (`shutdown`, `rotate`,
 * `overloaded`, `server`). It stops for good on a `204`, on `sse.close` with
 * `reconnect: false` or `replaced`, on a 4xx other than 408, and on `close()`.
 *
 * It reads the stream with `fetch` (a plain EventSource cannot see a status,
 * a `Retry-After` or a 204), so it also does `POST` bodies and headers.
 *
 * @example
 * ```ts
 * // ChatEvents: the event map the server's SseHub<ChatEvents> sends, imported as a type.
 * const events = connect<ChatEvents>('/events', { onOpen: ({ clientId }) => console.log(clientId) });
 * events.on('chat', (message) => show(message.text));
 * ```
 */
export function connect<Events extends object = Record<string, unknown>>(url: string, options: SseConnectOptions = {}): SseHubClient<Events> {
  return new Client(url, options) as unknown as SseHubClient<Events>;
}
