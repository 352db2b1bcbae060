/**
 * Milliseconds before reconnect attempt `attempt` (0: the first since the
 * last stream opened): exponential backoff with full jitter, anywhere in
 * `[0, min(maxDelay, retry · 2^attempt)]`, so that clients that failed
 * together do not come back together; never sooner than `retryAfter`.
 */
export function reconnectDelay(attempt: number, retry: number, maxDelay: number, retryAfter = 0): number {
  return Math.max(retryAfter, Math.round(Math.random() * Math.min(maxDelay, retry * 2 ** attempt)));
}

/** A `Retry-After` header (seconds, or an HTTP date) in milliseconds; 0 when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (!header) return 0;
  const seconds = Number(header);
  const ms = Number.isNaN(seconds) ? Date.parse(header) - now : seconds * 1000;
  return ms > 0 ? ms : 0;
}
