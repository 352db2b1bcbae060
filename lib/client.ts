/**
 * `nestjs-sse-hub/client`: the browser client, an ES module without
 * dependencies that runs wherever `fetch` and web streams do (browsers, Node ≥ 18).
 * @packageDocumentation
 */
export { connect } from './client/sse-hub-client.js';
export type {
  SseHubClient,
  SseConnectOptions,
  SseOpenInfo,
  SseGapInfo,
  SseCloseInfo,
  SseRetryInfo,
  SseMessage,
  SseEventType,
  SseEventData,
} from './client/sse-hub-client.js';
