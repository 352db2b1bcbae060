import { Inject, Injectable } from '@nestjs/common';
import { SseSettings } from '../config/sse-settings.js';
import { SseCounters } from './sse-counters.js';
import { encodeEvents } from './sse-frame.encoder.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import type { SseEvent } from '../interfaces/sse-event.interface.js';
import type { SseEncodedEvents, SseTransport, SseTransportTarget } from '../interfaces/sse-transport.interface.js';

/**
 * The sending side of delivery: every send (`SseHub.send`, `ctx.send`) is
 * validated and encoded here once, on the instance it starts from, and handed
 * to the transport, which decides ids and delivers it to every instance
 * (`SseLocalDelivery.deliver`).
 */
@Injectable()
export class SsePublisher {
  private readonly maxEventBytes: number | undefined;

  constructor(
    settings: SseSettings,
    private readonly counters: SseCounters,
    @Inject(SSE_TRANSPORT) private readonly transport: SseTransport,
  ) {
    this.maxEventBytes = settings.maxEventBytes;
  }

  /**
   * Encodes the events (throwing `SseInvalidArgumentError` or
   * `SseEventTooLargeError` before anything is sent) and publishes them;
   * resolves with how many connections the target addressed.
   */
  send(target: SseTransportTarget, events: SseEvent<unknown> | readonly SseEvent<unknown>[]): Promise<number> {
    return this.publishEncoded(target, encodeEvents(events, this.maxEventBytes));
  }

  /** Publishes events encoded already (by a connection that had to check them before opening). */
  async publishEncoded(target: SseTransportTarget, encoded: SseEncodedEvents): Promise<number> {
    const delivered = await this.transport.publish(target, encoded);
    this.counters.eventsAccepted(encoded.texts.length);
    return delivered;
  }
}
