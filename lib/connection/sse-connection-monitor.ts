import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SseConnectionRegistry } from './sse-connection.registry.js';
import { SseSettings } from '../config/sse-settings.js';

/**
 * One timer per duty for all connections (not one per connection):
 * - keep-alive: every half `keepAlive` period, a connection that has had no
 *   write since the last sweep gets `: ping`, so none stays silent much longer
 *   than `keepAlive`; a write to a dead peer that fails closes it;
 * - stalls: every quarter `stallTimeout`, a connection whose unsent bytes have
 *   not drained for `stallTimeout` is closed.
 */
@Injectable()
export class SseConnectionMonitor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly settings: SseSettings,
  ) {}

  onApplicationBootstrap(): void {
    const { keepAliveMs, stallTimeout } = this.settings;
    if (keepAliveMs > 0) this.every(keepAliveMs / 2, () => this.pingIdle());
    if (stallTimeout > 0) this.every(stallTimeout / 4, () => this.closeStalled(stallTimeout));
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

  private closeStalled(timeout: number): void {
    const now = Date.now();
    for (const connection of [...this.registry.open]) connection.closeIfStalled(now, timeout);
  }
}
