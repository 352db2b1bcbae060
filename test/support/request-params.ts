/**
 * Reads request data the same way on Express and Fastify: both expose the
 * parsed query as `req.query` and the headers as `req.headers`.
 */
export function queryParam(request: unknown, key: string): string | undefined {
  const query = (request as { query?: Record<string, unknown> }).query;
  const value = query?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** A request header (lower-case name), first value when repeated. */
export function headerValue(request: unknown, name: string): string | undefined {
  const value = (request as { headers?: Record<string, string | string[] | undefined> }).headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}
