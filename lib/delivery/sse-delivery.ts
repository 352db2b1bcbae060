import { Inject, Injectable } from '@nestjs/common';
import { SseEventIds } from './sse-event-ids.js';
import { SseHistory, type SseReplay, type SseReplayReader } from '../history/sse-history.js';
import { SseSettings } from '../config/sse-settings.js';
import { assertEventSize, encodeEventBody } from './sse-frame.encoder.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import type { NormalizedTarget } from '../config/sse.validation.js';
import type { SseEvent } from '../interfaces/sse-event.interface.js';
import type { SseStats } from '../interfaces/sse-stats.interface.js';
import type {
  SseEncodedEvents,
  SsePreparedEvents,
  SseTransport,
  SseTransportTarget,
} from '../interfaces/sse-transport.interface.js';

/** Events encoded once, ready to record and write. */
export type SsePreparedSend = SsePreparedEvents;

/** The counters of `SseStats` this side of the registry keeps. */
export type SseDeliveryCounters = Omit<SseStats, 'connections' | 'connectionsByName'>;

/**
 * Everything between an event and the sockets: ids, one encoding per send,
 * history, replay, and the counters of `SseHub.stats()`.
 */
@Injectable()
export class SseDelivery {
  readonly counters: SseDeliveryCounters = {
    eventsSent: 0,
    bytesWritten: 0,
    slowClientDisconnects: 0,
    replaysServed: 0,
    gapsSignalled: 0,
  };
  /** Unsent bytes above which a connection is dropped as slow. */
  readonly maxBufferedBytes: number;
  /** Largest encoded event (`maxEventBytes`); undefined = no limit. */
  readonly maxEventBytes: number | undefined;

  constructor(
    settings: SseSettings,
    private readonly ids: SseEventIds,
    @Inject(SseHistory) private readonly history: SseHistory,
    @Inject(SSE_TRANSPORT) private readonly transport: SseTransport,
  ) {
    this.maxBufferedBytes = settings.maxBufferedBytes;
    this.maxEventBytes = settings.maxEventBytes;
  }

  /**
   * Encodes every event once, without its id (the transport decides generated
   * ids). Throws `SseInvalidArgumentError` for a bad event, before anything is
   * recorded or written.
   */
  encode(events: SseEvent<unknown> | readonly SseEvent<unknown>[]): SseEncodedEvents {
    const list: readonly SseEvent<unknown>[] = Array.isArray(events) ? events : [events as SseEvent<unknown>];
    const texts: string[] = new Array(list.length);
    const ids: Array<string | undefined> = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      texts[i] = encodeEventBody(list[i]);
      ids[i] = list[i].id;
      // The frame as sent: the body plus the caller's `id:` line (a generated id is not counted).
      if (this.maxEventBytes !== undefined) {
        const idLine = ids[i] === undefined ? 0 : Buffer.byteLength(`id: ${ids[i]}\n`);
        assertEventSize(Buffer.byteLength(texts[i]) + idLine, this.maxEventBytes);
      }
    }
    return { texts, ids };
  }

  /**
   * Gives every event an id (the caller's, else one from this instance's
   * generator) and makes its frame; the result's `frame` is what every
   * recipient gets (one buffer, so that nothing lands between the events).
   */
  prepare(encoded: SseEncodedEvents): SsePreparedSend {
    const { texts } = encoded;
    const ids: string[] = new Array(texts.length);
    const frames: Buffer[] = new Array(texts.length);
    for (let i = 0; i < texts.length; i++) {
      ids[i] = encoded.ids[i] ?? this.ids.next();
      frames[i] = Buffer.from(`id: ${ids[i]}\n${texts[i]}`);
    }
    return { ids, frames, frame: frames.length === 1 ? frames[0] : Buffer.concat(frames) };
  }

  /**
   * Hands a send to the transport, which records and writes it on every
   * instance; resolves with how many connections it addressed.
   */
  async publish(target: SseTransportTarget, encoded: SseEncodedEvents): Promise<number> {
    const delivered = await this.transport.publish(target, encoded);
    this.counters.eventsSent += encoded.texts.length;
    return delivered;
  }

  /** Resolves once this instance holds every send accepted so far (see `SseTransport.catchUp`). */
  catchUp(): Promise<void> | undefined {
    return this.transport.catchUp?.();
  }

  /** Records prepared events with their target; call it right before writing them to live connections. */
  record(target: SseTransportTarget, prepared: SsePreparedSend): void {
    // A copy: the caller may reuse its arrays after send().
    const recorded: NormalizedTarget = {
      names: [...target.names],
      groups: target.groups && [...target.groups],
      clientIds: target.clientIds && [...target.clientIds],
    };
    const sentAt = Date.now();
    const { ids, frames } = prepared;
    for (let i = 0; i < ids.length; i++) this.history.append({ id: ids[i], frame: frames[i], target: recorded, sentAt });
  }

  /** What a connection reconnecting with `lastEventId` missed, counted as a replay or a gap. */
  replay(reader: SseReplayReader, lastEventId: string): SseReplay {
    const replay = this.history.since(reader, lastEventId);
    if (replay.kind === 'gap') this.counters.gapsSignalled++;
    else this.counters.replaysServed++;
    return replay;
  }
}
