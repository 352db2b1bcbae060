import 'reflect-metadata';
import { Res, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { SSE_CONNECTION_METADATA } from '../sse.constants.js';
import { SseConnectionInterceptor } from '../http/sse-connection.interceptor.js';
import { connectionOf } from '../http/connection-binding.js';
import { assertIdentifier } from '../addressing/identifiers.js';
import { assertBoolean, assertMilliseconds, assertScope } from '../config/value-checks.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';
import { assertFollow, resumableSettings } from '../streams/sse-stream-options.js';
import type { SseConnectionOptions } from '../interfaces/sse-connection-options.interface.js';

type Handler = (...args: unknown[]) => unknown;

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';

/** The first argument position no parameter of the handler uses. */
function freeParameterIndex(target: object, key: string | symbol, handler: Handler): number {
  const declared = (Reflect.getMetadata('design:paramtypes', target, key) as unknown[] | undefined)?.length ?? 0;
  const routeArgs = (Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) ?? {}) as Record<
    string,
    { index: number }
  >;
  const decorated = Object.values(routeArgs).map((arg) => arg.index + 1);
  return Math.max(handler.length, declared, ...decorated);
}

function validateOptions(options: SseConnectionOptions<never>): void {
  if (typeof options !== 'object' || options === null) {
    throw new SseInvalidArgumentError(SseMessages.invalidOption('@SseConnection()', 'an object with a name', options));
  }
  assertIdentifier('name', options.name);
  if (options.scope !== undefined) assertScope(options.scope);
  if (options.retry !== undefined) assertMilliseconds('route retry', options.retry);
  if (options.compression !== undefined) assertBoolean('route compression', options.compression);
  if (typeof options.group === 'string') assertIdentifier('group', options.group);
  else if (options.group !== undefined && typeof options.group !== 'function') {
    throw new SseInvalidArgumentError(SseMessages.invalidOption('group', 'a string or a function', options.group));
  }
  if (options.clientId !== undefined && typeof options.clientId !== 'function') {
    throw new SseInvalidArgumentError(SseMessages.invalidOption('clientId', 'a function', options.clientId));
  }
  resumableSettings(options.resumable);
  assertFollow(options.follow);
}

/**
 * Turns the requests of a GET or POST route into SSE connections registered
 * under `options.name` (Pode's `ConvertTo-PodeSseConnection`).
 *
 * Guards, interceptors and pipes run first. The stream opens on the first
 * event or when the handler returns; an exception before that becomes the
 * exception's HTTP status. The handler may send through `@SseContext()`,
 * return a Promise, or return an Observable / AsyncIterable of events, which
 * are streamed to this connection. A `'global'` connection then stays open and
 * addressable through `SseHub`; a `'local'` one closes when that work is done.
 *
 * @example
 * ```ts
 * @Get('events')
 * @SseConnection<SseRequest>({
 *   name: 'events',
 *   group: (req) => (typeof req.query.room === 'string' ? req.query.room : undefined),
 * })
 * open() {}
 * ```
 */
export function SseConnection<TRequest = any>(options: SseConnectionOptions<TRequest>): MethodDecorator {
  validateOptions(options);
  return (target, key, descriptor: TypedPropertyDescriptor<any>) => {
    const handler = descriptor.value as Handler;
    // Nest leaves a response alone when the handler takes it with @Res(): we add
    // that parameter past the handler's own, so that Nest never writes the stream's
    // response, and we learn from it when the handler has returned.
    const responseIndex = freeParameterIndex(target, key, handler);
    Res()(target, key, responseIndex);
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const result = handler.apply(this, args);
      const connection = connectionOf(args[responseIndex]);
      // A handler that returned (an Observable, an iterable, a value) opens its
      // stream now; one that returned a promise, once it resolves.
      if (connection) {
        if (isThenable(result)) result.then(() => connection.open(), () => undefined);
        else connection.open();
      }
      return result;
    };
    for (const metadataKey of Reflect.getMetadataKeys(handler)) {
      Reflect.defineMetadata(metadataKey, Reflect.getMetadata(metadataKey, handler), wrapped);
    }
    Object.defineProperty(wrapped, 'name', { value: handler.name });
    descriptor.value = wrapped;
    SetMetadata(SSE_CONNECTION_METADATA, options)(target, key, descriptor);
    UseInterceptors(SseConnectionInterceptor)(target, key, descriptor);
    return descriptor;
  };
}
