export { SseError } from './sse.error.js';
export { SseInvalidArgumentError } from './sse-invalid-argument.error.js';
export { SseBroadcastLevelError } from './sse-broadcast-level.error.js';
export { SseConnectionClosedError } from './sse-connection-closed.error.js';
export { SseEventTooLargeError } from './sse-event-too-large.error.js';
export { SseTransportError } from './sse-transport.error.js';
