import { Inject, Injectable } from '@nestjs/common';
import { SseEventIds } from './sse-event-ids.js';
import { SseHistory, type SseReplay, type SseReplayReader } from './sse-history.js';
import { SseSettings } from './sse-settings.js';
import { encodeEventText } from './sse-frame.encoder.js';
import type { NormalizedTarget } from './sse.validation.js';
import type { SseEvent } from './interfaces/sse-event.interface.js';
import type { SseStats } from './interfaces/sse-stats.interface.js';

/** Events encoded once, ready to record and write. */
export interface SsePreparedSend {
  /** Each event's id, in order. */
  readonly ids: readonly string[];
  /** Each event's frame, in order (history keeps these). */
  readonly frames: readonly Buffer[];
  /** All frames in one buffer: what every live recipient gets, in one write. */
  readonly frame: Buffer;
}

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

  constructor(
    settings: SseSettings,
    private readonly ids: SseEventIds,
    @Inject(SseHistory) private readonly history: SseHistory,
  ) {
    this.maxBufferedBytes = settings.maxBufferedBytes;
  }

  /**
   * Gives every event an id (the caller's, else a generated one) and encodes
   * each once; the result's `frame` is what every recipient gets (one buffer,
   * so that nothing lands between the events). Throws `SseInvalidArgumentError`
   * for a bad event, before anything is recorded or written.
   */
  prepare(events: SseEvent<unknown> | readonly SseEvent<unknown>[]): SsePreparedSend {
    const list: readonly SseEvent<unknown>[] = Array.isArray(events) ? events : [events as SseEvent<unknown>];
    const ids: string[] = new Array(list.length);
    const frames: Buffer[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      ids[i] = list[i]?.id ?? this.ids.next();
      frames[i] = Buffer.from(encodeEventText(list[i], ids[i]));
    }
    return { ids, frames, frame: frames.length === 1 ? frames[0] : Buffer.concat(frames) };
  }

  /** Records prepared events with their target; call it right before writing them to live connections. */
  record(target: NormalizedTarget, prepared: SsePreparedSend): void {
    // A copy: the caller may reuse its arrays after send().
    const recorded: NormalizedTarget = {
      names: [...target.names],
      groups: target.groups && [...target.groups],
      clientIds: target.clientIds && [...target.clientIds],
    };
    const sentAt = Date.now();
    const { ids, frames } = prepared;
    for (let i = 0; i < ids.length; i++) this.history.append({ id: ids[i], frame: frames[i], target: recorded, sentAt });
    this.counters.eventsSent += ids.length;
  }

  /** What a connection reconnecting with `lastEventId` missed, counted as a replay or a gap. */
  replay(reader: SseReplayReader, lastEventId: string): SseReplay {
    const replay = this.history.since(reader, lastEventId);
    if (replay.kind === 'gap') this.counters.gapsSignalled++;
    else this.counters.replaysServed++;
    return replay;
  }
}
