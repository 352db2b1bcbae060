/** Metadata key of `@SseConnection()` route options. */
export const SSE_CONNECTION_METADATA = 'sse:connection';

/** Metadata key of `@OnSseConnect()` / `@OnSseDisconnect()` provider methods. */
export const SSE_LIFECYCLE_METADATA = 'sse:lifecycle';

/** Default milliseconds between keep-alive comments on an idle connection. */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;

/** Default number of events kept per topic (name, group, user or client id) for `Last-Event-ID` replay. */
export const DEFAULT_HISTORY_SIZE = 1000;

/** Default number of topics whose history is kept (least recently sent to forgotten first). */
export const DEFAULT_HISTORY_MAX_TOPICS = 10_000;

/** Default bytes of history kept in all (64 MiB); history is not unsent data and has a bound of its own. */
export const DEFAULT_HISTORY_MAX_BYTES = 64 * 1024 * 1024;

/** Default milliseconds an event stays replayable (5 minutes). */
export const DEFAULT_HISTORY_TTL_MS = 5 * 60_000;

/** Default unsent bytes per connection above which it is dropped as slow (1 MiB). */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

/** Default unsent bytes over all connections above which the largest backlogs are dropped (64 MiB). */
export const DEFAULT_MAX_TOTAL_BUFFERED_BYTES = 64 * 1024 * 1024;

/** Default milliseconds a backlog may go without draining before its connection is closed (60 s). */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** Default milliseconds a resumable stream's recording is kept after it ends (10 minutes). */
export const DEFAULT_STREAM_TTL_MS = 10 * 60_000;

/** Default longest run of a resumable stream's handler, in milliseconds (1 hour). */
export const DEFAULT_STREAM_MAX_DURATION_MS = 60 * 60_000;

/** Default bytes one resumable stream may record (8 MiB). */
export const DEFAULT_MAX_RECORDED_BYTES = 8 * 1024 * 1024;

/** Default milliseconds `app.close()` lets running resumable streams finish (30 s). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** Bytes of a recording written to a follower at a time, each batch once the client took the last (a replay is paced, not buffered). */
export const STREAM_REPLAY_BATCH_BYTES = 16 * 1024;

/** Random bytes of a generated stream id (128 bits: it cannot be guessed). */
export const STREAM_ID_BYTES = 16;

/** Shortest signing secret accepted (characters). */
export const MIN_SIGNING_SECRET_LENGTH = 16;

/** Longest name, group or client id accepted (PROTOCOL.md: 1–256 characters). */
export const MAX_IDENTIFIER_LENGTH = 256;

/** Longest `Last-Event-ID` accepted from a client, and so the longest event id we send. */
export const MAX_LAST_EVENT_ID_LENGTH = 1024;

/** Longest `X-Sse-Group` response header value: proxies refuse large headers (`sse.open` data always lists every group). */
export const MAX_GROUPS_HEADER_LENGTH = 1024;

/** Longest period Node's timers hold (2^31 - 1 ms); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** `Retry-After` seconds of a 503 when the route has no `retry` to derive it from. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** `retry:` (ms) sent with `sse.open`, and the base of a spread `retry:`, when neither the route nor the module sets one. */
export const DEFAULT_RETRY_MS = 3000;

/** Default width (ms) of the range a spread `retry:` is drawn from, above its base (`reconnectSpread`). */
export const DEFAULT_RECONNECT_SPREAD_MS = 5000;

/** `maxConnectionAge` varies by this fraction either way per connection, so connections opened together do not rotate together. */
export const CONNECTION_AGE_JITTER = 0.1;

/** The age sweep runs every this fraction of `maxConnectionAge` (a connection rotates at most this late), … */
export const CONNECTION_AGE_SWEEP_FRACTION = 1 / 20;

/** … but at least this often (ms), however long the age. */
export const MAX_CONNECTION_AGE_SWEEP_MS = 30_000;

/**
 * Prefix of the `id:` of a final `sse.close` (`reconnect: false`): a stop token.
 * A reconnect that offers it as `Last-Event-ID` is answered `204`. No generated
 * event id starts with it, so one string comparison tells it from a real id.
 */
export const STOP_TOKEN_PREFIX = 'sse-stop:';

/** Most stopped client ids and tokens `MemoryTransport` remembers (the oldest are forgotten first). */
export const MAX_STOPPED_ENTRIES = 100_000;

/** Event types that this library sends itself; applications may not send them. */
export const PROTOCOL_EVENT_PREFIX = 'sse.';

/** Request and response headers that carry a connection's identity. */
export const SSE_HEADERS = {
  clientId: 'x-sse-client-id',
  name: 'x-sse-name',
  group: 'x-sse-group',
  lastEventId: 'last-event-id',
  streamId: 'x-sse-stream-id',
} as const;

/** Query parameters for clients that cannot set headers (EventSource). */
export const SSE_QUERY = {
  clientId: 'clientId',
  lastEventId: 'lastEventId',
} as const;

/** The OpenTelemetry meter (instrumentation scope) the hub's instruments belong to. */
export const METER_NAME = 'nestjs-sse-hub';

/** Bucket bounds of `sse_hub.send.duration`, in seconds: a memory send is sub-millisecond, a Redis one milliseconds. */
export const SEND_DURATION_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The `sse.name` attribute of names that `metrics.byName` does not list. */
export const METRIC_OTHER_NAME = '_other';

/** Default milliseconds `SseHealthIndicator` waits for the transport's ping. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 1000;

/** Default milliseconds `SseTestClient` waits for an event before it rejects. */
export const DEFAULT_TEST_CLIENT_TIMEOUT_MS = 5000;
