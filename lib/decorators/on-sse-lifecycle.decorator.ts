import { SetMetadata } from '@nestjs/common';
import { SSE_LIFECYCLE_METADATA } from '../sse.constants.js';
import { assertIdentifier } from '../addressing/identifiers.js';
import type { SseLifecycleEvent } from '../interfaces/sse-connection-info.interface.js';

/** What an `@OnSseConnect()` / `@OnSseDisconnect()` method listens to. */
export interface SseLifecycleListener {
  type: SseLifecycleEvent['type'];
  /** Only this name; every name when absent. */
  name: string | undefined;
}

const listen = (type: SseLifecycleEvent['type'], name?: string): MethodDecorator =>
  SetMetadata<string, SseLifecycleListener>(SSE_LIFECYCLE_METADATA, {
    type,
    name: name === undefined ? undefined : assertIdentifier('name', name),
  });

/**
 * Calls the provider method with the `SseConnectionInfo` of every connection
 * that opens (under `name`, or any name). An exception it throws is logged and
 * affects nothing else.
 */
export const OnSseConnect = (name?: string): MethodDecorator => listen('connect', name);

/** Like `@OnSseConnect()`, for every connection that closes, whatever the reason. */
export const OnSseDisconnect = (name?: string): MethodDecorator => listen('disconnect', name);
