export type {
  SseHistory as SseHistoryContract,
  SseHistoryEntry,
  SseReplay,
  SseReplayReader,
  SseTopicRef,
} from '../interfaces/sse-history.interface.js';
import type { SseHistory as SseHistoryContract } from '../interfaces/sse-history.interface.js';

/** The `SseHistory` in use: the type, and its injection token. */
export type SseHistory = SseHistoryContract;

/** Injection token of the `SseHistory` in use. */
export const SseHistory = Symbol('SseHistory');
