import { Inject, Injectable } from '@nestjs/common';
import {
  DEFAULT_HISTORY_SIZE,
  DEFAULT_HISTORY_TTL_MS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
} from '../sse.constants.js';
import { SSE_MODULE_OPTIONS } from '../sse.module-definition.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import {
  assertBoolean,
  assertBroadcastLevel,
  assertIdentifier,
  assertPositiveInteger,
  assertRetry,
  assertScope,
  assertTimerPeriod,
  assertTransport,
} from './sse.validation.js';
import type { SseBroadcastLevel, SseScope } from '../interfaces/sse-broadcast-level.type.js';
import type { SseModuleOptions } from '../interfaces/sse-module-options.interface.js';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function assertSigning(where: string, value: unknown): { secret: string; strict: boolean } {
  if (!isPlainObject(value)) throw new SseInvalidArgumentError(SseMessages.invalidValue(where, 'an object with a secret', value));
  const { secret, strict } = value;
  if (typeof secret !== 'string' || secret.length < 16) {
    throw new SseInvalidArgumentError(SseMessages.invalidOption('signing.secret', 'a string of at least 16 characters', secret));
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

/**
 * How each module option is checked. An option missing here is refused as
 * unknown (a typo must not be silently ignored), and `satisfies` makes the
 * compiler demand a line for every option of `SseModuleOptions`: adding an
 * option is one line here.
 */
const OPTION_CHECKS = {
  defaultScope: (_where: string, value: unknown) => assertScope(value),
  retry: assertRetry,
  keepAlive: assertTimerPeriod,
  signing: assertSigning,
  broadcastLevels: assertBroadcastLevels,
  maxConnections: assertPositiveInteger,
  maxConnectionsPerName: assertPositiveInteger,
  maxEventBytes: assertPositiveInteger,
  history: (_where: string, value: unknown) => historyOf(value as SseModuleOptions['history']),
  maxBufferedBytes: (_where: string, value: unknown) => positiveInteger('maxBufferedBytes', value, 1),
  // Checked where the transport provider is made (sse.module.ts); passed through here.
  transport: (_where: string, value: unknown) => assertTransport(value),
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
  readonly retry: number | undefined;
  readonly keepAliveMs: number;
  readonly signing: { secret: string; strict: boolean } | undefined;
  /** Events kept per name for replay (0 = off) and for how many milliseconds. */
  readonly history: { size: number; ttl: number };
  readonly maxBufferedBytes: number;
  /** Mutable at run time through `SseHub.setBroadcastLevel`. */
  readonly broadcastLevels: Map<string, SseBroadcastLevel>;
  /** Open connections (both scopes, all names) this instance accepts; undefined = no limit. */
  readonly maxConnections: number | undefined;
  /** Open connections per name this instance accepts; undefined = no limit. */
  readonly maxConnectionsPerName: number | undefined;
  /** Largest encoded event, in bytes; undefined = no limit. */
  readonly maxEventBytes: number | undefined;

  constructor(@Inject(SSE_MODULE_OPTIONS) options: SseModuleOptions | undefined) {
    const opts = checkOptions(options);
    this.defaultScope = opts.defaultScope ?? 'global';
    this.retry = opts.retry;
    this.keepAliveMs = opts.keepAlive ?? DEFAULT_KEEP_ALIVE_MS;
    this.signing = opts.signing;
    this.broadcastLevels = opts.broadcastLevels ?? new Map();
    this.maxConnections = opts.maxConnections;
    this.maxConnectionsPerName = opts.maxConnectionsPerName;
    this.maxEventBytes = opts.maxEventBytes;
    this.history = opts.history ?? historyOf(undefined);
    this.maxBufferedBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }
}

function positiveInteger(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new SseInvalidArgumentError(SseMessages.invalidOption(option, `an integer of at least ${min}`, value));
  }
  return value;
}

function historyOf(history: SseModuleOptions['history']): { size: number; ttl: number } {
  if (history === undefined) return { size: DEFAULT_HISTORY_SIZE, ttl: DEFAULT_HISTORY_TTL_MS };
  if (typeof history !== 'object' || history === null) {
    throw new SseInvalidArgumentError(SseMessages.invalidOption('history', 'an object { size?, ttl? }', history));
  }
  return {
    size: history.size === undefined ? DEFAULT_HISTORY_SIZE : positiveInteger('history.size', history.size, 0),
    ttl: history.ttl === undefined ? DEFAULT_HISTORY_TTL_MS : positiveInteger('history.ttl', history.ttl, 1),
  };
}
