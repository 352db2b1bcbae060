export type { SseBroadcastLevel, SseScope } from './sse-broadcast-level.type.js';
export type { SseEvent, SseEventMap, SseEventOf, SseTarget, SseSendResult, SseJoinOptions, SseCloseOptions } from './sse-event.interface.js';
export type { SseConnectionOptions, SseRequest, SseResumableOptions } from './sse-connection-options.interface.js';
export type { SseConnectionInfo, SseLifecycleEvent } from './sse-connection-info.interface.js';
export type { SseModuleOptions } from './sse-module-options.interface.js';
export type { SseOptionsFactory, SseModuleAsyncOptions } from './sse-module-async-options.interface.js';
export type {
  SseTransport,
  SseEncodedEvents,
  SsePreparedEvents,
  SseTransportConnection,
  SseTransportPeer,
  SseLocalConnections,
  SseTransportTarget,
  SseReplayMode,
} from './sse-transport.interface.js';
export type { SseStreamStore, SseStreamListener, SseStreamFollowing } from './sse-stream-store.interface.js';
export type { SseStats } from './sse-stats.interface.js';
export type { SseHistory, SseHistoryEntry, SseReplay, SseReplayReader, SseTopicRef } from './sse-history.interface.js';
export type { SseMetricsOptions, SseMeterProvider } from './sse-metrics-options.interface.js';
export type { SseObserverOptions } from './sse-observer-options.interface.js';
