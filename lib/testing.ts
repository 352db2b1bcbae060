/**
 * `nestjs-sse-hub/testing`: a typed Server-Sent Events client for the tests of
 * an app that uses the hub. Needs `eventsource-parser` (an optional peer:
 * install it as a dev dependency); loads no Nest code.
 * @packageDocumentation
 */
export {
  SseTestClient,
  type SseTestClientOptions,
  type SseTestReconnectOptions,
  type SseTestWaitOptions,
} from './testing/sse-test-client.js';
export type { SseTestEvent, SseTestOpenData } from './testing/sse-test-event.js';
export type { SseTestServer } from './testing/sse-test-server.js';
export { SseTestClientError } from './errors/sse-test-client.error.js';
