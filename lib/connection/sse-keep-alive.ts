import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SseConnectionRegistry } from './sse-connection.registry.js';
import { SseSettings } from '../config/sse-settings.js';

/**
 * One timer for all connections (not one per connection): every half period,
 * a connection that has had no write since the last sweep gets `: ping`, so no
 * connection stays silent much longer than `keepAlive`. A write to a dead peer
 * fails and closes its connection, which is how half-open sockets are found.
 */
@Injectable()
export class SseKeepAlive implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly settings: SseSettings,
  ) {}

  onApplicationBootstrap(): void {
    const period = this.settings.keepAliveMs;
    if (period === 0) return;
    this.timer = setInterval(() => this.sweep(), Math.max(1, Math.floor(period / 2)));
    // Never the reason a process stays alive.
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sweep(): void {
    for (const stream of this.registry.open) {
      if (stream.wroteRecently) stream.wroteRecently = false;
      else stream.ping();
    }
  }
}
