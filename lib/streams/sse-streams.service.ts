import { ConflictException, Inject, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { SseSettings } from '../config/sse-settings.js';
import { SseStopTokens } from '../connection/sse-stop-tokens.js';
import { SseCounters } from '../delivery/sse-counters.js';
import { encodeProtocolFrame } from '../delivery/sse-frame.encoder.js';
import { SseMessages } from '../sse.messages.js';
import { SseTransportError } from '../errors/sse-transport.error.js';
import { STREAM_REPLAY_BATCH_BYTES } from '../sse.constants.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import { SseMemoryStreams } from './sse-memory-streams.js';
import { resumableSettings } from './sse-stream-options.js';
import { SseStreamProducer } from './sse-stream-producer.js';
import type { SseClientConnection } from '../connection/sse-client-connection.js';
import type { SseConnectionOptions } from '../interfaces/sse-connection-options.interface.js';
import type { SseStreamStore } from '../interfaces/sse-stream-store.interface.js';
import type { SseTransport } from '../interfaces/sse-transport.interface.js';

// NUL separates: neither a name nor an id can contain one.
const keyOf = (name: string, streamId: string) => `${name}\0${streamId}`;

/**
 * Resumable streams on this instance: starts producers (409 for an id taken),
 * attaches followers to a recording (404 for an unknown one), stops streams,
 * and drains them at shutdown. Recordings live in the transport's store, else
 * in this instance's memory.
 */
@Injectable()
export class SseStreams {
  private readonly store: SseStreamStore;
  /** The streams whose handlers run here. */
  private readonly running = new Map<string, SseStreamProducer>();
  private draining = false;
  private drained: (() => void) | undefined;

  constructor(
    private readonly settings: SseSettings,
    private readonly stops: SseStopTokens,
    private readonly counters: SseCounters,
    @Inject(SSE_TRANSPORT) transport: SseTransport,
  ) {
    this.store = transport.streams ?? new SseMemoryStreams();
    // Stop requests from other instances, for streams whose handlers run here.
    this.store.onStop?.((name, streamId) => void this.running.get(keyOf(name, streamId))?.stop('stopped'));
  }

  /**
   * Starts the stream a request to a resumable route produces; 409 when its id
   * runs or is recorded already, 503 while the app shuts down.
   */
  async produce(connection: SseClientConnection, options: SseConnectionOptions): Promise<SseStreamProducer> {
    const resumable = resumableSettings(options.resumable)!;
    if (this.draining) throw new ServiceUnavailableException(SseMessages.shuttingDown());
    const { name } = connection;
    const streamId = connection.streamId!;
    if (!(await unlessUnreachable(this.store.create(name, streamId, resumable.ttl)))) {
      throw new ConflictException(SseMessages.streamIdTaken(name, streamId));
    }
    const producer = new SseStreamProducer(
      connection,
      { maxDuration: resumable.maxDuration, maxRecordedBytes: this.settings.maxRecordedBytes, maxEventBytes: this.settings.maxEventBytes },
      { store: this.store, stopToken: (streamName) => this.stops.issue(streamName), ended: (ended) => this.ended(ended), counters: this.counters },
    );
    this.running.set(keyOf(name, streamId), producer);
    return producer;
  }

  /** Resolves when a follow of the stream would find it (a HEAD is answered as its GET would be); 404 otherwise. */
  async assertFollowable(name: string, streamId: string): Promise<void> {
    const ignore = () => undefined;
    const following = await unlessUnreachable(this.store.follow(name, streamId, { frames: ignore, finished: ignore, lost: ignore }));
    if (!following) throw new NotFoundException(SseMessages.unknownStream(name));
    following.unfollow();
  }

  /**
   * Makes `connection` (of a follow route) a follower of its stream: opens it,
   * writes what it missed (after its `Last-Event-ID` exactly, else `sse.gap`
   * and everything), then the live rest and the last frame. 404 when the
   * stream is unknown or expired (nothing written then). Resolves once it
   * is open; the replay goes on, paced by the client.
   */
  async follow(connection: SseClientConnection): Promise<void> {
    const { name } = connection;
    const streamId = connection.streamId!;
    // Until the replay is written, live frames wait here (a store may call back before follow resolves).
    const waiting: Buffer[] = [];
    let replaying = true;
    let lastFrame: Buffer | undefined;
    const finished = (frame: Buffer) => {
      if (replaying) lastFrame = frame;
      else connection.endWith(frame);
    };
    const following = await unlessUnreachable(this.store.follow(name, streamId, {
      frames: (frames) => {
        if (replaying) waiting.push(...frames);
        else for (const frame of frames) connection.write(frame);
      },
      finished,
      lost: () => finished(this.lostFrame(name)),
    }));
    if (!following) throw new NotFoundException(SseMessages.unknownStream(name));
    connection.onClose(() => following.unfollow());
    lastFrame ??= following.finished ?? (following.lost ? this.lostFrame(name) : undefined);
    connection.open();
    const frames = waiting.length === 0 ? following.frames : [...following.frames, ...waiting.splice(0)];
    let start = 0;
    if (connection.lastEventId !== undefined) {
      const after = positionAfter(frames, connection.lastEventId);
      if (after === undefined) {
        // The same shape as a name's gap (the client's SseGapInfo); the topic is the stream.
        const gap = { lastEventId: connection.lastEventId, oldestAvailableId: idOf(frames[0]) ?? null, topics: [{ name, streamId }] };
        connection.write(encodeProtocolFrame('sse.gap', gap));
      } else start = after;
    }
    void replay(connection, start === 0 ? frames : frames.slice(start), waiting).then(() => {
      replaying = false;
      if (lastFrame) connection.endWith(lastFrame);
    });
  }

  /**
   * Stops a stream (signal aborted, `sse.close` `stopped`) running here, else
   * through a shared store wherever it runs; false when none runs under that id.
   */
  async stop(name: string, streamId: string): Promise<boolean> {
    const here = this.running.get(keyOf(name, streamId));
    if (here) return here.stop('stopped');
    return (await this.store.stop?.(name, streamId)) ?? false;
  }

  /** The last frame a follower gets when the instance running its stream is gone. */
  private lostFrame(name: string): Buffer {
    return encodeProtocolFrame('sse.close', { reason: 'lost' }, undefined, this.stops.issue(name));
  }

  /**
   * At shutdown: refuses new streams, lets running ones finish for
   * `drainTimeout`, then stops what still runs (reason `shutdown`).
   */
  async drain(): Promise<void> {
    this.draining = true;
    if (this.running.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.settings.drainTimeout);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const producer of [...this.running.values()]) producer.stop('shutdown');
  }

  private ended(producer: SseStreamProducer): void {
    this.running.delete(keyOf(producer.name, producer.streamId));
    if (this.running.size === 0) this.drained?.();
  }
}

/**
 * Writes a recording to a follower a batch at a time, each once the client
 * took the last: a replay of megabytes to many followers is never held in
 * memory as unsent bytes (it would count against `maxTotalBufferedBytes`).
 * Then what came live meanwhile (`waiting`), until none is left.
 */
async function replay(connection: SseClientConnection, frames: readonly Buffer[], waiting: Buffer[]): Promise<void> {
  let list = frames;
  while (list.length > 0) {
    for (let i = 0; i < list.length && !connection.isClosed; ) {
      let bytes = 0;
      while (i < list.length && bytes < STREAM_REPLAY_BATCH_BYTES) {
        bytes += list[i].length;
        connection.write(list[i++]);
      }
      await connection.whenWritable();
    }
    list = waiting.splice(0);
  }
}

/** A store that cannot be asked right now (Redis away): 503, as for `@SseContext()`, rather than a 500. */
async function unlessUnreachable<T>(asked: Promise<T>): Promise<T> {
  try {
    return await asked;
  } catch (error) {
    if (error instanceof SseTransportError) throw new ServiceUnavailableException(error.message);
    throw error;
  }
}

const ID_LINE = 'id: ';

/** The id of a frame made by a producer (it starts with its `id:` line). */
function idOf(frame: Buffer | undefined): string | undefined {
  if (!frame || frame.indexOf(ID_LINE) !== 0) return undefined;
  return frame.toString('utf8', ID_LINE.length, frame.indexOf(0x0a));
}

/**
 * Where a replay after `lastEventId` starts: the position after that event,
 * or undefined when it is not an id of this recording. Ids are `<tag>.<n>`,
 * the n-th frame: one comparison instead of a search.
 */
function positionAfter(frames: readonly Buffer[], lastEventId: string): number | undefined {
  const dot = lastEventId.lastIndexOf('.');
  const n = Number(lastEventId.slice(dot + 1));
  if (dot < 0 || !Number.isSafeInteger(n) || n < 1 || n > frames.length) return undefined;
  return idOf(frames[n - 1]) === lastEventId ? n : undefined;
}
