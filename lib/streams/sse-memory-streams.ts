import type { SseStreamFollowing, SseStreamListener, SseStreamStore } from '../interfaces/sse-stream-store.interface.js';

interface Recording {
  readonly frames: Buffer[];
  finished: Buffer | undefined;
  readonly ttl: number;
  /** Set when the stream ends: from then on the recording expires. */
  expiresAt: number;
  readonly listeners: Set<SseStreamListener>;
}

/**
 * The recordings of this instance's resumable streams, in memory (the store
 * used when the transport offers none). Frames are the very buffers written
 * to the producer's client, shared, never copied.
 */
export class SseMemoryStreams implements SseStreamStore {
  private readonly recordings = new Map<string, Recording>();

  async create(name: string, streamId: string, ttlMs: number): Promise<boolean> {
    const key = keyOf(name, streamId);
    if (this.live(key)) return false;
    this.recordings.set(key, { frames: [], finished: undefined, ttl: ttlMs, expiresAt: Infinity, listeners: new Set() });
    return true;
  }

  append(name: string, streamId: string, frames: readonly Buffer[]): void {
    const recording = this.recordings.get(keyOf(name, streamId));
    if (!recording || recording.finished) return;
    for (const frame of frames) recording.frames.push(frame);
    for (const listener of recording.listeners) listener.frames(frames);
  }

  finish(name: string, streamId: string, frame: Buffer): void {
    const key = keyOf(name, streamId);
    const recording = this.recordings.get(key);
    if (!recording || recording.finished) return;
    recording.finished = frame;
    recording.expiresAt = Date.now() + recording.ttl;
    // Forgotten at its time even if nobody asks for it again (a lookup before the timer checks the time itself).
    setTimeout(() => {
      if (this.recordings.get(key) === recording) this.recordings.delete(key);
    }, recording.ttl).unref();
    const listeners = [...recording.listeners];
    recording.listeners.clear();
    for (const listener of listeners) listener.finished(frame);
  }

  async follow(name: string, streamId: string, listener: SseStreamListener): Promise<SseStreamFollowing | undefined> {
    const recording = this.live(keyOf(name, streamId));
    if (!recording) return undefined;
    // A copy of the list (not of the frames): appends after this reach the listener instead.
    const frames = recording.frames.slice();
    if (!recording.finished) recording.listeners.add(listener);
    // This instance runs every stream it records: none is ever lost.
    return { frames, finished: recording.finished, lost: false, unfollow: () => recording.listeners.delete(listener) };
  }

  /** The recording under `key` unless it has expired (then it is forgotten). */
  private live(key: string): Recording | undefined {
    const recording = this.recordings.get(key);
    if (recording && recording.expiresAt <= Date.now()) {
      this.recordings.delete(key);
      return undefined;
    }
    return recording;
  }
}

// NUL separates: neither a name nor an id can contain one.
const keyOf = (name: string, streamId: string) => `${name}\0${streamId}`;
