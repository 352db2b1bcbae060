import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { SseContextPipe } from '../http/sse-context.pipe.js';
import type { SseContext as SseContextShape } from '../interfaces/sse-context.interface.js';
import type { SseEventMap } from '../interfaces/sse-event.interface.js';

const requestOf = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  context.switchToHttp().getRequest<object>(),
);

/**
 * Injects the `SseContext` of a connection: on an `@SseConnection()` route the
 * request's own; on any other route the open connection named by the
 * `X-Sse-Name` and `X-Sse-Client-Id` headers (400 / 404 otherwise).
 *
 * @example
 * ```ts
 * @Post('messages')
 * reply(@SseContext() ctx: SseContext) { return ctx.send({ data: 'hi' }); }
 * ```
 */
export const SseContext = (): ParameterDecorator => requestOf(undefined, SseContextPipe);

/**
 * One connection as a handler sees it: its identity, `send()`, `close()`,
 * `join()`, `leave()`. `SseContext<Events>` types `send` by an event map.
 */
export type SseContext<Events extends object = SseEventMap> = SseContextShape<Events>;
