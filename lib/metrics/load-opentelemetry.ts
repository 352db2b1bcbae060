import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';

/** The OpenTelemetry API module. */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/**
 * Loads `@opentelemetry/api` (an optional peer) when metrics are wanted, at
 * bootstrap and never at import time, so the package loads without it (and
 * with `require()`: no top-level await). Without it: undefined in `auto` mode
 * (metrics are a silent no-op), a start-up error in `required` mode.
 */
export async function loadOpenTelemetry(
  mode: 'auto' | 'required',
  importer: () => Promise<OpenTelemetryApi> = () => import('@opentelemetry/api'),
): Promise<OpenTelemetryApi | undefined> {
  try {
    return await importer();
  } catch (error) {
    if (mode === 'auto') return undefined;
    throw new SseInvalidArgumentError(SseMessages.metricsUnavailable(error instanceof Error ? error.message : String(error)));
  }
}
