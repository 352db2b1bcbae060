import { SseError } from './sse.error.js';

/**
 * `SseTestClient` (from `nestjs-sse-hub/testing`) could not do what a test
 * asked: the request failed, the awaited event did not come in time, or the
 * response ended first. The message lists what was received.
 */
export class SseTestClientError extends SseError {}
