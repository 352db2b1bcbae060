/**
 * nestjs-sse-hub: Server-Sent Events for NestJS.
 * @packageDocumentation
 */
export { SseModule } from './sse.module.js';
export { SseHub } from './sse-hub.service.js';
export { SseConnection } from './decorators/sse-connection.decorator.js';
export { SseContext } from './decorators/sse-context.decorator.js';
export { OnSseConnect, OnSseDisconnect } from './decorators/on-sse-lifecycle.decorator.js';
export { SSE_TRANSPORT } from './transports/sse-transport.token.js';
export { MemoryTransport } from './transports/memory.transport.js';
export type { SseClientBinding } from './connection/sse-client-id.service.js';
export * from './errors/index.js';
export type * from './interfaces/index.js';
