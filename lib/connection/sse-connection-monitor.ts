import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SseConnectionRegistry } from './sse-connection.registry.js';
import { SseSettings } from '../config/sse-settings.js';
import { CONNECTION_AGE_JITTER, CONNECTION_AGE_SWEEP_FRACTION, MAX_CONNECTION_AGE_SWEEP_MS } from '../sse.constants.js';
import type { SseClientConnection } from './sse-client-connection.js';

/**
 * One timer per duty for all connections (not one per connection):
 * - keep-alive: every half `keepAlive` period, a connection that has had no
 *   write since the last sweep gets `: ping`, so none stays silent much longer
 *   than `keepAlive`; a write to a dead peer that fails closes it;
 * - stalls: every quarter `stallTimeout`, a connection whose unsent bytes have
 *   not drained for `stallTimeout` is closed;
 * - age: every twentieth of `maxConnectionAge` (at most 30 s), a connection
 *   older than its own age (`maxConnectionAge` ±10 %, drawn when first seen)
 *   is rotated: a spread `retry:`, `sse.close` `rotate`, its HTTP connection closed.
 */
@Injectable()
export class SseConnectionMonitor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly timers: NodeJS.Timeout[] = [];
  /** When each connection is due to rotate (ms since the epoch). */
  private readonly rotateAt = new WeakMap<SseClientConnection, number>();

  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly settings: SseSettings,
  ) {}

  onApplicationBootstrap(): void {
    const { keepAliveMs, stallTimeout, maxConnectionAge } = this.settings;
    if (keepAliveMs > 0) this.every(keepAliveMs / 2, () => this.pingIdle());
    if (stallTimeout > 0) this.every(stallTimeout / 4, () => this.closeStalled(stallTimeout));
    if (maxConnectionAge !== undefined) {
      const period = Math.min(maxConnectionAge * CONNECTION_AGE_SWEEP_FRACTION, MAX_CONNECTION_AGE_SWEEP_MS);
      this.every(period, () => this.rotateOld(maxConnectionAge));
    }
  }

  beforeApplicationShutdown(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  private every(period: number, sweep: () => void): void {
    const timer = setInterval(sweep, Math.max(1, Math.floor(period)));
    // Never the reason a process stays alive.
    timer.unref();
    this.timers.push(timer);
  }

  private pingIdle(): void {
    for (const connection of this.registry.open) {
      if (connection.wroteRecently) connection.wroteRecently = false;
      else connection.ping();
    }
  }

  private rotateOld(age: number): void {
    const now = Date.now();
    for (const connection of [...this.registry.open]) {
      let due = this.rotateAt.get(connection);
      if (due === undefined) {
        // Its own age, so that connections opened in one burst (a deploy) do not all leave in one either.
        due = connection.connectedAt.getTime() + age * (1 - CONNECTION_AGE_JITTER + 2 * CONNECTION_AGE_JITTER * Math.random());
        this.rotateAt.set(connection, due);
      }
      if (now >= due) connection.end('rotate');
    }
  }

  private closeStalled(timeout: number): void {
    const now = Date.now();
    for (const connection of [...this.registry.open]) connection.closeIfStalled(now, timeout);
  }
}
