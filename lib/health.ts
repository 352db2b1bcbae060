/**
 * `nestjs-sse-hub/health`: a `@nestjs/terminus` health indicator for the
 * readiness of the hub. Needs `@nestjs/terminus` (an optional peer).
 * @packageDocumentation
 */
export { SseHealthIndicator } from './health/sse-health.indicator.js';
export type { SseHealthOptions } from './health/sse-health-options.interface.js';
