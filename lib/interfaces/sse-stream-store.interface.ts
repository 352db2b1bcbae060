/**
 * What a follower of a resumable stream is told as the stream goes on (see
 * `SseStreamStore.follow`). Called synchronously by the store, in order.
 */
export interface SseStreamListener {
  /** Frames recorded since the follow began (or since the last call), in order. */
  frames(frames: readonly Buffer[]): void;
  /** The stream's last frame (`sse.close` or `sse.error`): it has ended, nothing follows. */
  finished(frame: Buffer): void;
  /** The instance running the stream is gone (it stopped renewing its presence): nothing follows. */
  lost(): void;
}

/** A follow that began: what was recorded by then, and the live rest through its listener. */
export interface SseStreamFollowing {
  /** Every event frame recorded when the follow began, in order (each starts with its `id:` line). */
  readonly frames: readonly Buffer[];
  /** The last frame, when the stream had already ended (its listener is then never called). */
  readonly finished: Buffer | undefined;
  /** True when the stream had not ended but the instance running it is gone (nothing follows). */
  readonly lost: boolean;
  /** Stops live delivery to the listener (the follower left). */
  unfollow(): void;
}

/**
 * Where resumable streams are recorded (README, "Streaming an answer"): one
 * recording per stream, kept apart from the names' history and never on the
 * shared path of `SseHub.send`. The module keeps them in this instance's
 * memory unless its transport offers a store (`SseTransport.streams`), which
 * must keep these promises:
 * - `create` claims a stream id under a name atomically across instances.
 * - One producer appends, in order; every follower, on every instance, gets
 *   the frames in that order, each once: first what `follow` returns, then
 *   through its listener what came later, then the last frame.
 * - A recording is kept while its stream runs and for `ttlMs` after it ended,
 *   then forgotten (`follow` resolves undefined).
 * - `append` and `finish` never throw (a backend failure is logged).
 * - A shared store tells followers (`lost`) when the instance running a
 *   stream is gone, within its presence timeout, and a follow begun after
 *   that gets the recording with `lost: true`.
 */
export interface SseStreamStore {
  /** Claims `streamId` under `name` for a new recording; false when one runs or is recorded under it. */
  create(name: string, streamId: string, ttlMs: number): Promise<boolean>;
  /** Records event frames (each with its `id:` line) and hands them to the followers. */
  append(name: string, streamId: string, frames: readonly Buffer[]): void;
  /** Records the last frame, hands it to the followers, and keeps the recording `ttlMs` from now. */
  finish(name: string, streamId: string, frame: Buffer): void;
  /** Follows a recording: undefined when no such stream runs or is recorded. */
  follow(name: string, streamId: string, listener: SseStreamListener): Promise<SseStreamFollowing | undefined>;
  /**
   * Optional (a store shared by instances). Asks the instance running the
   * stream to stop it (it hears it through `onStop`); resolves true when a
   * running stream was found, false when it is unknown, ended or lost.
   */
  stop?(name: string, streamId: string): Promise<boolean>;
  /** Optional, with `stop`: the module's handler of stop requests for streams that run here. */
  onStop?(handler: (name: string, streamId: string) => void): void;
}
