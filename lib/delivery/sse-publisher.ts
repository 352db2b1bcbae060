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
   * resolves with how many connections the target addressed. `startedAt`
   * (`performance.now()` when the send was asked for) times the send.
   */
  send(
    target: SseTransportTarget,
    events: SseEvent<unknown> | readonly SseEvent<unknown>[],
    startedAt = performance.now(),
  ): Promise<number> {
    return this.publishEncoded(target, encodeEvents(events, this.maxEventBytes), startedAt);
  }

  /** Publishes events encoded already (by a connection that had to check them before opening). */
  async publishEncoded(target: SseTransportTarget, encoded: SseEncodedEvents, startedAt = performance.now()): Promise<number> {
    let delivered: number;
    try {
      delivered = await this.transport.publish(target, encoded);
    } catch (error) {
      // Counted here, once per send, whoever asked for it (hub, context, stream).
      this.counters.transportFailed();
      throw error;
    }
    this.counters.sent(encoded.texts.length, target.names, (performance.now() - startedAt) / 1000);
    return delivered;
  }
}
