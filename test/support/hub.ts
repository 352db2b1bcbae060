import type { SseHub } from '../../lib/index.js';

/**
 * Waits until the server has removed every global connection. A client that
 * closed its socket has not necessarily been seen leaving yet, so tests that
 * count or broadcast call this between cases to start from a clean registry.
 */
export async function untilNoConnections(hub: SseHub, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await hub.count()) > 0) {
    if (Date.now() > deadline) throw new Error(`connections still open: ${await hub.count()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
