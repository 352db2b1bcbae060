import { filter, firstValueFrom } from 'rxjs';
import type { SseConnectionInfo, SseHub, SseLifecycleEvent } from '../../lib/index.js';
import { until } from './wait.js';

/**
 * Waits until no connection is open: none counted by the hub (on a cluster
 * transport: on any instance), and no local one on this instance either
 * (`stats().connections`). A client that closed its socket has not
 * necessarily been seen leaving yet, so the app helper calls this after every
 * test, and tests that count call it to start from a clean registry.
 */
export function untilNoConnections(hub: SseHub, timeoutMs = 10_000): Promise<void> {
  let open = '';
  const none = async () => {
    const counted = await hub.count();
    const here = hub.stats().connections;
    open = `${counted} counted by the hub, ${here} open on this instance`;
    return counted === 0 && here === 0;
  };
  return until(none, 'no open connections', timeoutMs).catch(() => {
    throw new Error(`connections still open after ${timeoutMs} ms: ${open}`);
  });
}

/**
 * Resolves at the next lifecycle event of `type` whose connection matches
 * (by default any). Call it before the action that causes the event.
 */
export function nextLifecycle(
  hub: SseHub,
  type: SseLifecycleEvent['type'],
  match: Partial<Pick<SseConnectionInfo, 'name' | 'clientId'>> = {},
): Promise<SseLifecycleEvent> {
  return firstValueFrom(
    hub.events$.pipe(
      filter(
        (event) =>
          event.type === type &&
          (match.name === undefined || event.connection.name === match.name) &&
          (match.clientId === undefined || event.connection.clientId === match.clientId),
      ),
    ),
  );
}
