import { Inject, Injectable } from '@nestjs/common';
import {
  DEFAULT_HISTORY_SIZE,
  DEFAULT_HISTORY_TTL_MS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
} from './sse.constants.js';
import { SSE_MODULE_OPTIONS } from './sse.module-definition.js';
import { SseInvalidArgumentError } from './errors/sse-invalid-argument.error.js';
import { SseMessages } from './sse.messages.js';
import { assertBroadcastLevel, assertIdentifier, assertRetry, assertScope } from './sse.validation.js';
import type { SseBroadcastLevel, SseScope } from './interfaces/sse-broadcast-level.type.js';
import type { SseModuleOptions } from './interfaces/sse-module-options.interface.js';

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
  readonly broadcastLevels = new Map<string, SseBroadcastLevel>();

  constructor(@Inject(SSE_MODULE_OPTIONS) options: SseModuleOptions | undefined) {
    const opts = options ?? {};
    if (typeof opts !== 'object') {
      throw new SseInvalidArgumentError(SseMessages.invalidOption('options', 'an object', opts));
    }
    this.defaultScope = opts.defaultScope === undefined ? 'global' : assertScope(opts.defaultScope);
    this.retry = opts.retry === undefined ? undefined : assertRetry('option retry', opts.retry);
    this.keepAliveMs = opts.keepAlive === undefined ? DEFAULT_KEEP_ALIVE_MS : assertRetry('option keepAlive', opts.keepAlive);
    if (opts.signing !== undefined) {
      const { secret, strict } = opts.signing ?? ({} as { secret?: unknown; strict?: unknown });
      if (typeof secret !== 'string' || secret.length < 16) {
        throw new SseInvalidArgumentError(
          SseMessages.invalidOption('signing.secret', 'a string of at least 16 characters', secret),
        );
      }
      if (strict !== undefined && typeof strict !== 'boolean') {
        throw new SseInvalidArgumentError(SseMessages.invalidOption('signing.strict', 'a boolean', strict));
      }
      this.signing = { secret, strict: strict ?? false };
    }
    this.history = historyOf(opts.history);
    this.maxBufferedBytes =
      opts.maxBufferedBytes === undefined
        ? DEFAULT_MAX_BUFFERED_BYTES
        : positiveInteger('maxBufferedBytes', opts.maxBufferedBytes, 1);
    const levels: unknown = opts.broadcastLevels;
    // Object.entries would silently read an array as names '0', '1', … and null as nothing.
    if (levels !== undefined && (typeof levels !== 'object' || levels === null || Array.isArray(levels))) {
      throw new SseInvalidArgumentError(
        SseMessages.invalidOption('broadcastLevels', "an object of name or '*' to level", levels),
      );
    }
    for (const [name, level] of Object.entries(opts.broadcastLevels ?? {})) {
      this.broadcastLevels.set(name === '*' ? name : assertIdentifier('name', name), assertBroadcastLevel(level));
    }
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
