import type { LoggerService } from '@nestjs/common';
import type { Observer } from 'rxjs';
import { SseTransportError } from '../errors/sse-transport.error.js';
import { SseMessages } from '../sse.messages.js';
import type { SseCounters } from './sse-counters.js';
import type { SseEvent } from '../interfaces/sse-event.interface.js';

/** What `SseSendObserver` needs of the hub. */
export interface SseStreamSink<T> {
  /** The names the stream sends to, for log lines. */
  readonly names: readonly string[];
  /** Builds the event(s) of one value. */
  toEvents(value: T): SseEvent<unknown> | SseEvent<unknown>[];
  /** Sends them (validated, encoded, published: `SseHub.send` without the target checks). */
  send(events: SseEvent<unknown> | SseEvent<unknown>[]): Promise<unknown>;
}

/**
 * The RxJS side of `SseHub.to()`: each value becomes a send, in the order the
 * values come (sends start synchronously, and transports keep that order).
 * Nothing is ever thrown back into RxJS: a value that cannot be sent is
 * logged and counted (`streamErrors`), a transport outage is logged once
 * while it lasts (its sends count as `transportErrors`), and a stream that
 * errors is logged and counted.
 */
export class SseSendObserver<T> implements Observer<T> {
  /** Values lost to the transport since the last one it accepted. */
  private lost = 0;

  constructor(
    private readonly sink: SseStreamSink<T>,
    private readonly counters: SseCounters,
    private readonly logger: LoggerService,
  ) {}

  next(value: T): void {
    let sending: Promise<unknown>;
    try {
      sending = this.sink.send(this.sink.toEvents(value));
    } catch (error) {
      return this.refused(error);
    }
    sending.then(
      () => this.delivered(),
      (error: unknown) => (error instanceof SseTransportError ? this.lostToTransport(error) : this.refused(error)),
    );
  }

  error(error: unknown): void {
    this.counters.streamFailed();
    this.logger.error(SseMessages.streamErrored(this.sink.names, reasonOf(error)), stackOf(error));
  }

  complete(): void {
    // Nothing to close: the connections stay open for other senders.
  }

  private refused(error: unknown): void {
    this.counters.streamFailed();
    this.logger.error(SseMessages.streamValueRefused(this.sink.names, reasonOf(error)), stackOf(error));
  }

  private lostToTransport(error: SseTransportError): void {
    // One line per outage, not one per value: a fast stream would flood the log.
    if (this.lost++ === 0) this.logger.warn(SseMessages.streamLosingValues(this.sink.names, error.message));
  }

  private delivered(): void {
    if (this.lost === 0) return;
    this.logger.log(SseMessages.streamDeliversAgain(this.sink.names, this.lost));
    this.lost = 0;
  }
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const stackOf = (error: unknown): string | undefined => (error instanceof Error ? error.stack : undefined);
