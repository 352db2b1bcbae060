import {
  HttpException,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { Observable, of, type Subscription } from 'rxjs';
import { SseConnectionFactory } from './sse-connection.factory.js';
import { SseDelivery } from '../delivery/sse-delivery.js';
import { SSE_CONNECTION_METADATA } from '../sse.constants.js';
import { SseMessages } from '../sse.messages.js';
import { SseConnectionClosedError } from '../errors/sse-connection-closed.error.js';
import { rawRequest, rawResponse } from './sse-request.js';
import type { SseStream } from '../connection/sse-client-connection.js';
import type { SseConnectionOptions } from '../interfaces/sse-connection-options.interface.js';
import type { SseEvent } from '../interfaces/sse-event.interface.js';

/** Resolves when the response can take more: at once (next turn) unless its buffer is full, then on drain or close. */
function writable(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (!response.writableNeedDrain || response.destroyed) {
      setImmediate(resolve);
      return;
    }
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

const toEvent = (value: unknown): SseEvent<unknown> =>
  typeof value === 'object' && value !== null && 'data' in value ? (value as SseEvent<unknown>) : { data: value };

/**
 * Where a request becomes a stream. Runs after guards, before pipes and the
 * handler: it makes a pending connection, streams what the handler returns or
 * sends, and decides when the response ends. Until the stream opens, any error
 * travels on to Nest's exception filters and becomes a real HTTP status.
 */
@Injectable()
export class SseConnectionInterceptor implements NestInterceptor {
  private readonly logger = new Logger('SseHub');

  constructor(
    private readonly reflector: Reflector,
    private readonly factory: SseConnectionFactory,
    private readonly delivery: SseDelivery,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.get<SseConnectionOptions>(SSE_CONNECTION_METADATA, context.getHandler());
    const http = context.switchToHttp();
    const request = http.getRequest<object>();
    if (rawRequest(request).method === 'HEAD') {
      // Platforms route HEAD to the GET handler; a HEAD must never become a registered stream.
      this.factory.answerHead(request, http.getResponse<object>(), options);
      return of(undefined);
    }
    const connection = this.factory.create(request, http.getResponse<object>(), options);
    const socketResponse = rawResponse(http.getResponse<object>());

    // Nest never writes this response itself (see the decorator): the value
    // emitted here only tells it that the request's work is over.
    return new Observable<void>((subscriber) => {
      let detach: (() => void) | undefined;
      const finish = () => {
        // The listener below holds the whole request pipeline (handler, Nest's
        // execution context): a global connection outlives its request, so let it go.
        detach?.();
        detach = undefined;
        subscriber.next();
        subscriber.complete();
      };
      let handler: Subscription | undefined;
      // Values are written in order, async iterables one after the other.
      let queue = Promise.resolve();
      const enqueue = (step: () => Promise<void> | void) => {
        queue = queue.then(step).catch((error: unknown) => this.fail(connection, error, subscriber, finish));
      };
      detach = connection.onClose(() => {
        handler?.unsubscribe();
        finish();
      });
      const run = () => {
        if (connection.isClosed) return;
        handler = next.handle().subscribe({
          next: (value) => enqueue(() => this.stream(connection, value, socketResponse)),
          error: (error: unknown) => enqueue(() => Promise.reject(error)),
          complete: () =>
            enqueue(() => {
              connection.open();
              if (connection.scope === 'local') connection.end('server');
              else finish();
            }),
        });
        if (connection.isClosed) handler.unsubscribe();
      };
      // A resuming client replays from this instance's history: with a cluster
      // transport, first let it hold every send accepted elsewhere.
      const catchingUp = connection.scope === 'global' && connection.lastEventId !== undefined ? this.delivery.catchUp() : undefined;
      if (catchingUp) void catchingUp.then(run);
      else run();
      return () => handler?.unsubscribe();
    });
  }

  /** Writes one value the handler produced: an event, an array of events, or an async iterable of them. */
  private async stream(connection: SseStream, value: unknown, response: ServerResponse): Promise<void> {
    if (value === undefined || value === null) return;
    if (isAsyncIterable(value)) {
      for await (const item of value) {
        if (connection.isClosed) break;
        await this.stream(connection, item, response);
        // An iterable that never awaits would otherwise hold the event loop (no I/O, not even
        // its client leaving) and buffer without bound: wait for the socket, or at least a turn.
        await writable(response);
      }
      return;
    }
    await connection.send(Array.isArray(value) ? value.map(toEvent) : toEvent(value));
  }

  private fail(
    connection: SseStream,
    error: unknown,
    subscriber: { error(error: unknown): void },
    finish: () => void,
  ): void {
    if (!connection.isOpen && !connection.isClosed) {
      // Nothing written yet: Nest's exception filters answer with the real status.
      // The error goes out first: discarding runs the close listeners, which would
      // otherwise complete the subscriber and swallow the error (no answer at all).
      subscriber.error(error);
      connection.discard();
      return;
    }
    if (connection.isOpen) {
      if (!(error instanceof HttpException)) this.logger.error(error instanceof Error ? error.stack : String(error));
      // The message only, never a stack; unknown errors are not described, as Nest does.
      connection.fail(error instanceof HttpException ? error.message : SseMessages.handlerFailed());
    } else if (!(error instanceof SseConnectionClosedError)) {
      this.logger.warn(`handler failed after its client left: ${error instanceof Error ? error.message : error}`);
    }
    finish();
  }
}
