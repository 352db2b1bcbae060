import { encodeProtocolFrame } from '../delivery/sse-frame.encoder.js';

/** Why the server closed a connection; sent as `sse.close` data (see the README's close-reason table). */
export type SseCloseReason = 'server' | 'shutdown' | 'replaced' | 'overloaded' | 'rotate' | 'done' | 'stopped' | 'lost';

/**
 * The reasons for which the server asks a client to come back later: the
 * `sse.close` is preceded by a spread `retry:`, and the HTTP connection is
 * closed too, so that the reconnect goes through the load balancer again.
 */
const COME_BACK_LATER: ReadonlySet<SseCloseReason> = new Set<SseCloseReason>(['shutdown', 'rotate', 'overloaded']);

/** True when `reason` asks the client to come back later (spread `retry:`, HTTP connection closed). */
export const isComeBackLater = (reason: SseCloseReason): boolean => COME_BACK_LATER.has(reason);

/**
 * A `retry:` drawn uniformly from the integers of `[base, base + spread]`, so
 * that clients told to come back together do not all come back at once.
 */
export function spreadRetry(base: number, spread: number, random: () => number = Math.random): number {
  return base + Math.floor(random() * (spread + 1));
}

/** `sse.close` with `reason`, preceded by a spread `retry:` when the reason asks the client to come back later. */
export function closeFrame(reason: SseCloseReason, retryBase: number, spread: number): Buffer {
  return encodeProtocolFrame('sse.close', { reason }, isComeBackLater(reason) ? spreadRetry(retryBase, spread) : undefined);
}
