import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { SseHub } from '../sse-hub.service.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import { DEFAULT_HEALTH_TIMEOUT_MS } from '../sse.constants.js';
import { SseMessages } from '../sse.messages.js';
import { assertPositiveInteger } from '../config/value-checks.js';
import { withinTime } from '../utils/bounded-wait.js';
import type { SseTransport } from '../interfaces/sse-transport.interface.js';
import type { SseHealthOptions } from './sse-health-options.interface.js';

/**
 * A `@nestjs/terminus` health indicator for **readiness** (from
 * `nestjs-sse-hub/health`): up while the transport answers (Redis: a PING
 * within `timeout`) and, with `maxConnections`, while this instance is not
 * fuller than that. Its data tells the open connections of this instance.
 *
 * Not for liveness: clients stay connected through a Redis outage (only sends
 * fail), and a failed liveness probe would restart every pod at once and cut
 * every stream. Provide it in the module of your health controller, next to
 * `TerminusModule`:
 *
 * @example
 * ```ts
 * @Get('health/ready')
 * @HealthCheck()
 * ready() {
 *   return this.health.check([() => this.sse.isReady('sse', { maxConnections: 10_000 })]);
 * }
 * ```
 */
@Injectable()
export class SseHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly hub: SseHub,
    @Inject(SSE_TRANSPORT) private readonly transport: SseTransport,
  ) {}

  /**
   * Checks the hub under `key` (default `'sse'`). Resolves with Terminus's
   * `up` or `down` result, carrying `transport` (`'reachable'` /
   * `'unreachable'`), `connections` and, when down, `message`. Throws
   * `SseInvalidArgumentError` for bad options.
   */
  async isReady<const Key extends string = 'sse'>(key: Key = 'sse' as Key, options: SseHealthOptions = {}): Promise<HealthIndicatorResult<Key>> {
    const timeout = options.timeout === undefined ? DEFAULT_HEALTH_TIMEOUT_MS : assertPositiveInteger('SseHealthIndicator timeout', options.timeout);
    const max = options.maxConnections === undefined ? undefined : assertPositiveInteger('SseHealthIndicator maxConnections', options.maxConnections);
    const session = this.indicators.check(key);
    const connections = this.hub.stats().connections;
    const failure = await this.pingFailure(timeout);
    if (failure !== undefined) return session.down({ transport: 'unreachable', connections, message: failure });
    if (max !== undefined && connections > max) {
      return session.down({ transport: 'reachable', connections, message: SseMessages.healthTooManyConnections(connections, max) });
    }
    return session.up({ transport: 'reachable', connections });
  }

  /** Why the transport is not reachable, or undefined when it is (a transport without `ping` always is). */
  private async pingFailure(timeout: number): Promise<string | undefined> {
    if (!this.transport.ping) return undefined;
    try {
      const answered = await withinTime(this.transport.ping(), timeout);
      return answered.done ? undefined : SseMessages.healthTimedOut(timeout);
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}
