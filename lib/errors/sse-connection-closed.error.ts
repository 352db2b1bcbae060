import { SseError } from './sse.error.js';

/**
 * `ctx.send()` on a connection that has already closed (the client went away,
 * or the server closed it). Nothing was sent.
 */
export class SseConnectionClosedError extends SseError {}
