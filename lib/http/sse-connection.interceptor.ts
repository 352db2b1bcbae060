import {
  HttpException,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, Observable, of, switchMap, type Subscription } from 'rxjs';
import { SseConnectionFactory } from './sse-connection.factory.js';
import { SSE_CONNECTION_METADATA } from '../sse.constants.js';
import { SseMessages } from '../sse.messages.js';
import { SseLocalDelivery } from '../delivery/sse-local-delivery.js';
import { SseStreams } from '../streams/sse-streams.service.js';
import { bindConnection } from './connection-binding.js';
import type { SseStreamProducer } from '../streams/sse-stream-producer.js';
import type { SseClientConnection } from '../connection/sse-client-connection.js';
import type { SseConnectionOptions } from '../interfaces/sse-connection-options.interface.js';
import type { SseEvent } from '../interfaces/sse-event.interface.js';

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

const toEvent = (value: unknown): SseEvent<unknown> =>
  typeof value === 'object' && value !== null && 'data' in value ? (value as SseEvent<unknown>) : { data: value };

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What a handler's work is streamed to: a client's connection, or a resumable stream around one. */
type SseServed = SseClientConnection | SseStreamProducer;

/** Emits (once) when the connection closes: a follower's request is over then. */
const untilClosed = (connection: SseServed) =>
  new Observable<void>((subscriber) =>
    connection.onClose(() => {
      subscriber.next();
      subscriber.complete();
    }),
  );

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
    private readonly delivery: SseLocalDelivery,
    private readonly streams: SseStreams,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.get<SseConnectionOptions>(SSE_CONNECTION_METADATA, context.getHandler());
    const http = context.switchToHttp();
    const prepared = this.prepare(http.getRequest<object>(), http.getResponse<object>(), options);
    // A HEAD was answered with the head alone; platforms route it to the GET handler, which must not run.
    // A follower is fed by its stream: its handler does not run either.
    return from(prepared).pipe(
      switchMap((served) => (!served ? of(undefined) : options.follow ? untilClosed(served) : this.serve(served, next))),
    );
  }

  /**
   * Makes the request's connection, and on a resumable route its stream (409
   * for an id taken), on a follow route its place among the followers (404 for
   * an unknown stream). Until then nothing is written: a refusal is a status.
   */
  private async prepare(request: object, response: object, options: SseConnectionOptions): Promise<SseServed | undefined> {
    const connection = await this.factory.create(request, response, options);
    if (!connection || (!options.resumable && !options.follow)) return connection;
    try {
      if (options.follow) {
        await this.streams.follow(connection);
        return connection;
      }
      const producer = await this.streams.produce(connection, options);
      // The handler's @SseContext() and the decorator's wrapper get the stream, not its first client.
      bindConnection(request, response, producer);
      return producer;
    } catch (error) {
      connection.discard();
      throw error;
    }
  }

  /**
   * Runs the handler for a pending connection and streams what it produces.
   * Nest never writes this response itself (see the decorator): the value
   * emitted here only tells it that the request's work is over.
   */
  private serve(connection: SseServed, next: CallHandler): Observable<void> {
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
          next: (value) => enqueue(() => this.stream(connection, value)),
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
      // A global connection is made reachable (and its replay fetched) before its handler runs.
      const preparing = connection.scope === 'global' ? this.delivery.prepare(connection) : undefined;
      if (preparing) void preparing.then(run);
      else run();
      return () => handler?.unsubscribe();
    });
  }

  /** Writes one value the handler produced: an event, an array of events, or an async iterable of them. */
  private async stream(connection: SseServed, value: unknown): Promise<void> {
    if (value === undefined || value === null) return;
    if (isAsyncIterable(value)) {
      for await (const item of value) {
        if (connection.isClosed) break;
        await this.stream(connection, item);
        // Paced by the client: the next item is pulled once the socket can take
        // more. An iterable that never awaits would otherwise also hold the
        // event loop (no I/O, not even its client leaving): at least a turn.
        await connection.whenWritable();
        await nextTurn();
      }
      return;
    }
    await connection.send(Array.isArray(value) ? value.map(toEvent) : toEvent(value));
  }

  private fail(
    connection: SseServed,
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
    // Its work was called off (client gone, stopped): whatever it threw then is the abort
    // itself, wrapped by fetch or an SDK in errors of their own, and no one's fault.
    if (connection.isOpen && !connection.signal.aborted) {
      if (!(error instanceof HttpException)) this.logger.error(error instanceof Error ? error.stack : String(error));
      // The message only, never a stack; unknown errors are not described, as Nest does.
      connection.fail(error instanceof HttpException ? error.message : SseMessages.handlerFailed());
    }
    finish();
  }
}
