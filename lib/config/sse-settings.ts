import { Inject, Injectable } from '@nestjs/common';
import {
  DEFAULT_HISTORY_MAX_BYTES,
  DEFAULT_HISTORY_MAX_TOPICS,
  DEFAULT_HISTORY_SIZE,
  DEFAULT_HISTORY_TTL_MS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_TOTAL_BUFFERED_BYTES,
  DEFAULT_RECONNECT_SPREAD_MS,
  DEFAULT_RETRY_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_RECORDED_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
  MIN_SIGNING_SECRET_LENGTH,
} from '../sse.constants.js';
import { SSE_MODULE_OPTIONS } from '../sse.module-definition.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import { assertIdentifier } from '../addressing/identifiers.js';
import {
  assertBoolean,
  assertBroadcastLevel,
  assertIntegerAtLeast,
  assertMilliseconds,
  assertOverload,
  assertPositiveInteger,
  assertScope,
  assertTimerPeriod,
  isPlainObject,
} from './value-checks.js';
import type { SseBroadcastLevel, SseScope } from '../interfaces/sse-broadcast-level.type.js';
import type { SseMeterProvider } from '../interfaces/sse-metrics-options.interface.js';
import type { SseModuleOptions } from '../interfaces/sse-module-options.interface.js';
import type { SseTransport } from '../interfaces/sse-transport.interface.js';
import type { SseHistoryLimits } from '../history/sse-memory-history.js';

function assertSigning(where: string, value: unknown): { secret: string; strict: boolean } {
  if (!isPlainObject(value)) throw new SseInvalidArgumentError(SseMessages.invalidValue(where, 'an object with a secret', value));
  const { secret, strict } = value;
  if (typeof secret !== 'string' || secret.length < MIN_SIGNING_SECRET_LENGTH) {
    throw new SseInvalidArgumentError(
      SseMessages.invalidOption('signing.secret', `a string of at least ${MIN_SIGNING_SECRET_LENGTH} characters`, secret),
    );
  }
  return { secret, strict: strict === undefined ? false : assertBoolean('option signing.strict', strict) };
}

function assertBroadcastLevels(where: string, value: unknown): Map<string, SseBroadcastLevel> {
  if (!isPlainObject(value)) throw new SseInvalidArgumentError(SseMessages.invalidValue(where, 'an object of name → level', value));
  const levels = new Map<string, SseBroadcastLevel>();
  for (const [name, level] of Object.entries(value)) {
    levels.set(name === '*' ? name : assertIdentifier('name', name), assertBroadcastLevel(level));
  }
  return levels;
}

const HISTORY_KEYS = ['size', 'ttl', 'maxTopics', 'maxBytes'];

function assertHistory(where: string, value: unknown): SseHistoryLimits {
  if (!isPlainObject(value)) {
    throw new SseInvalidArgumentError(SseMessages.invalidValue(where, 'an object { size?, ttl?, maxTopics?, maxBytes? }', value));
  }
  const unknown = Object.keys(value).find((key) => !HISTORY_KEYS.includes(key));
  if (unknown !== undefined) throw new SseInvalidArgumentError(SseMessages.unknownOption(`history.${unknown}`, HISTORY_KEYS));
  const { size, ttl, maxTopics, maxBytes } = value;
  return {
    size: size === undefined ? DEFAULT_HISTORY_SIZE : assertIntegerAtLeast('option history.size', size, 0),
    ttl: ttl === undefined ? DEFAULT_HISTORY_TTL_MS : assertPositiveInteger('option history.ttl', ttl),
    maxTopics: maxTopics === undefined ? DEFAULT_HISTORY_MAX_TOPICS : assertPositiveInteger('option history.maxTopics', maxTopics),
    maxBytes: maxBytes === undefined ? DEFAULT_HISTORY_MAX_BYTES : assertPositiveInteger('option history.maxBytes', maxBytes),
  };
}

/**
 * The metrics option, checked: `off`, `auto` (on when `@opentelemetry/api`
 * loads), `required` (the start fails without it), or a provider of the app's.
 */
export interface SseMetricsSettings {
  readonly mode: 'off' | 'auto' | 'required';
  readonly meterProvider: SseMeterProvider | undefined;
  /** `sse.name` for every name (true), none (false), or only these. */
  readonly byName: boolean | ReadonlySet<string>;
}

function assertMetrics(where: string, value: unknown): SseMetricsSettings {
  if (typeof value === 'boolean') return { mode: value ? 'required' : 'off', meterProvider: undefined, byName: false };
  if (!isPlainObject(value)) throw new SseInvalidArgumentError(SseMessages.invalidValue(where, 'a boolean or { meterProvider?, byName? }', value));
  const { meterProvider, byName, ...unknown } = value;
  const extra = Object.keys(unknown)[0];
  if (extra !== undefined) throw new SseInvalidArgumentError(SseMessages.unknownOption(`metrics.${extra}`, ['metrics.meterProvider', 'metrics.byName']));
  if (meterProvider !== undefined && typeof (meterProvider as { getMeter?: unknown } | null)?.getMeter !== 'function') {
    throw new SseInvalidArgumentError(SseMessages.invalidOption('metrics.meterProvider', 'an OpenTelemetry MeterProvider', meterProvider));
  }
  let names: boolean | ReadonlySet<string> = false;
  if (Array.isArray(byName)) names = new Set(byName.map((name: unknown) => assertIdentifier('name', name)));
  else if (byName !== undefined) names = assertBoolean('option metrics.byName', byName);
  return { mode: 'required', meterProvider: meterProvider as SseMeterProvider | undefined, byName: names };
}

/** A period of at least 1 ms that a timer can hold (0 would mean "rotate at once"). */
function assertTimerPeriodAtLeastOne(where: string, value: unknown): number {
  return assertTimerPeriod(where, assertPositiveInteger(where, value));
}

const TRANSPORT_METHODS = ['connect', 'disconnect', 'publish', 'close', 'register', 'unregister', 'names', 'groups', 'clientIds', 'count'] as const;

/** Accepts an object with every `SseTransport` method. */
function assertTransport(where: string, value: unknown): SseTransport {
  const missing = TRANSPORT_METHODS.find((method) => typeof (value as Record<string, unknown> | null)?.[method] !== 'function');
  if (missing !== undefined) {
    throw new SseInvalidArgumentError(SseMessages.invalidValue(where, `an SseTransport (no ${missing}() found)`, value));
  }
  return value as SseTransport;
}

/**
 * How each module option is checked. An option missing here is refused as
 * unknown (a typo must not be silently ignored), and `satisfies` makes the
 * compiler demand a line for every option of `SseModuleOptions`: adding an
 * option is one line here.
 */
const OPTION_CHECKS = {
  defaultScope: (_where: string, value: unknown) => assertScope(value),
  retry: assertMilliseconds,
  reconnectSpread: assertMilliseconds,
  overload: assertOverload,
  maxConnectionAge: assertTimerPeriodAtLeastOne,
  keepAlive: assertTimerPeriod,
  signing: assertSigning,
  broadcastLevels: assertBroadcastLevels,
  maxConnections: assertPositiveInteger,
  maxConnectionsPerName: assertPositiveInteger,
  maxConnectionsPerUser: assertPositiveInteger,
  maxEventBytes: assertPositiveInteger,
  history: assertHistory,
  maxBufferedBytes: assertPositiveInteger,
  maxTotalBufferedBytes: assertPositiveInteger,
  stallTimeout: assertTimerPeriod,
  directWrites: assertBoolean,
  compression: assertBoolean,
  drainTimeout: assertTimerPeriod,
  maxRecordedBytes: assertPositiveInteger,
  transport: assertTransport,
  metrics: assertMetrics,
} satisfies Record<keyof SseModuleOptions, (where: string, value: unknown) => unknown>;

type CheckedOptions = { [K in keyof typeof OPTION_CHECKS]?: ReturnType<(typeof OPTION_CHECKS)[K]> };

/** Checks every option given (undefined = not given); throws `SseInvalidArgumentError` on the first bad one. */
function checkOptions(options: unknown): CheckedOptions {
  const given = options ?? {};
  if (!isPlainObject(given)) throw new SseInvalidArgumentError(SseMessages.invalidOption('options', 'an object', given));
  const known = Object.keys(OPTION_CHECKS) as Array<keyof typeof OPTION_CHECKS>;
  const checked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    if (!(known as string[]).includes(key)) throw new SseInvalidArgumentError(SseMessages.unknownOption(key, known));
    if (value !== undefined) checked[key] = OPTION_CHECKS[key as keyof typeof OPTION_CHECKS](`option ${key}`, value);
  }
  return checked as CheckedOptions;
}

/**
 * The module options, checked once at bootstrap and with defaults applied, so
 * that a bad option fails the app's start rather than the first request.
 */
@Injectable()
export class SseSettings {
  readonly defaultScope: SseScope;
  /** The module's `retry`, if set (a route's wins; `DEFAULT_RETRY_MS` when neither is). */
  readonly retry: number | undefined;
  /** Width (ms) of the range a spread `retry:` is drawn from, above its base. */
  readonly reconnectSpread: number;
  /** What a request over `maxConnections*` gets: the overload stream, or 503. */
  readonly overload: 'retry' | 'reject';
  /** Milliseconds (±10 %) after which a connection is rotated; undefined = never. */
  readonly maxConnectionAge: number | undefined;
  readonly keepAliveMs: number;
  readonly signing: { secret: string; strict: boolean } | undefined;
  /** Events kept per topic for replay (0 = off), for how many milliseconds, and the bounds of all of it. */
  readonly history: SseHistoryLimits;
  readonly maxBufferedBytes: number;
  /** Unsent bytes over all connections above which the largest backlogs are dropped. */
  readonly maxTotalBufferedBytes: number;
  /** Milliseconds a backlog may go without draining before its connection is closed; 0 = never. */
  readonly stallTimeout: number;
  /** Mutable at run time through `SseHub.setBroadcastLevel`. */
  readonly broadcastLevels: Map<string, SseBroadcastLevel>;
  /** Open connections (both scopes, all names) this instance accepts; undefined = no limit. */
  readonly maxConnections: number | undefined;
  /** Open connections per name this instance accepts; undefined = no limit. */
  readonly maxConnectionsPerName: number | undefined;
  /** Open connections per user this instance accepts; undefined = no limit. */
  readonly maxConnectionsPerUser: number | undefined;
  /** Largest encoded event, in bytes; undefined = no limit. */
  readonly maxEventBytes: number | undefined;
  /** HTTP/1.1 chunks may go straight to the socket (see `Http1Channel`). */
  readonly directWrites: boolean;
  /** Gzip streams whose request accepts it, unless the route says otherwise. */
  readonly compression: boolean;
  /** Milliseconds `app.close()` lets running resumable streams finish. */
  readonly drainTimeout: number;
  /** Bytes one resumable stream may record. */
  readonly maxRecordedBytes: number;
  /** The transport the options name; undefined = this instance alone. */
  readonly transport: SseTransport | undefined;
  /** OpenTelemetry metrics; by default on when `@opentelemetry/api` loads. */
  readonly metrics: SseMetricsSettings;

  constructor(@Inject(SSE_MODULE_OPTIONS) options: SseModuleOptions | undefined) {
    const opts = checkOptions(options);
    this.defaultScope = opts.defaultScope ?? 'global';
    this.retry = opts.retry;
    this.reconnectSpread = opts.reconnectSpread ?? DEFAULT_RECONNECT_SPREAD_MS;
    this.overload = opts.overload ?? 'retry';
    this.maxConnectionAge = opts.maxConnectionAge;
    this.keepAliveMs = opts.keepAlive ?? DEFAULT_KEEP_ALIVE_MS;
    this.signing = opts.signing;
    this.broadcastLevels = opts.broadcastLevels ?? new Map();
    this.maxConnections = opts.maxConnections;
    this.maxConnectionsPerName = opts.maxConnectionsPerName;
    this.maxConnectionsPerUser = opts.maxConnectionsPerUser;
    this.maxEventBytes = opts.maxEventBytes;
    this.history = opts.history ?? assertHistory('option history', {});
    this.maxBufferedBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.maxTotalBufferedBytes = opts.maxTotalBufferedBytes ?? DEFAULT_MAX_TOTAL_BUFFERED_BYTES;
    this.stallTimeout = opts.stallTimeout ?? DEFAULT_STALL_TIMEOUT_MS;
    this.directWrites = opts.directWrites ?? true;
    this.compression = opts.compression ?? false;
    this.drainTimeout = opts.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.maxRecordedBytes = opts.maxRecordedBytes ?? DEFAULT_MAX_RECORDED_BYTES;
    this.transport = opts.transport;
    this.metrics = opts.metrics ?? { mode: 'auto', meterProvider: undefined, byName: false };
  }

  /** The `retry:` base of a route: its own `retry`, else the module's, else `DEFAULT_RETRY_MS`. */
  retryOf(routeRetry: number | undefined): number {
    return routeRetry ?? this.retry ?? DEFAULT_RETRY_MS;
  }
}
