import type { SseScope } from './sse-broadcast-level.type.js';

/**
 * The platform's request object: Express `Request` or Fastify `FastifyRequest`.
 * Both expose `headers` and `query`, which is all a callback here should need.
 */
export interface SseRequest {
  headers: Record<string, string | string[] | undefined>;
  query?: unknown;
  [key: string]: unknown;
}

/** Options of `@SseConnection()`. */
export interface SseConnectionOptions<TRequest = any> {
  /** The name the connection is registered under, e.g. `'events'`. */
  name: string;
  /** `'global'` (stays open, addressable) or `'local'` (closes when the handler is done). Default: the module's `defaultScope`. */
  scope?: SseScope;
  /** A group (chat room, tenant), fixed or derived from the request; an invalid derived group answers 400. */
  group?: string | ((request: TRequest) => string | undefined);
  /** `retry:` sent on open, overriding the module's `retry`. */
  retry?: number;
  /**
   * Derives the client id from the request (e.g. the user id). It wins over an
   * id the client offers; it is signed when signing is enabled.
   */
  clientId?: (request: TRequest) => string | undefined;
  /** Sends `Access-Control-Allow-Origin: *`. Default false: configure CORS with `app.enableCors()` instead. */
  allowAllOrigins?: boolean;
}
