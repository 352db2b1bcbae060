import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SseConnectionRegistry } from '../connection/sse-connection.registry.js';
import { SseDelivery } from './sse-delivery.js';
import { SseSettings } from '../config/sse-settings.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import type { SseStream } from '../connection/sse-client-connection.js';
import type {
  SseEncodedEvents,
  SsePreparedEvents,
  SseTransport,
  SseTransportConnection,
  SseTransportHost,
  SseTransportTarget,
} from '../interfaces/sse-transport.interface.js';

const writeFrame = (frame: Buffer) => (connection: SseStream) => connection.write(frame);

/**
 * Plugs the transport into this instance: hands it the local connections
 * (`SseTransportHost`) at bootstrap and disconnects it once the app is down.
 */
@Injectable()
export class SseTransportConnector implements SseTransportHost, OnApplicationBootstrap, OnApplicationShutdown {
  readonly historyTtl: number;

  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly delivery: SseDelivery,
    settings: SseSettings,
    @Inject(SSE_TRANSPORT) private readonly transport: SseTransport,
  ) {
    this.historyTtl = settings.history.size === 0 ? 0 : settings.history.ttl;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.transport.connect(this);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.transport.disconnect();
  }

  deliver(target: SseTransportTarget, events: SsePreparedEvents): number {
    // Recorded before any live write (see SseHistory's contract).
    this.delivery.record(target, events);
    return this.registry.forEachTarget(target, writeFrame(events.frame));
  }

  record(target: SseTransportTarget, events: SsePreparedEvents): void {
    this.delivery.record(target, events);
  }

  prepare(events: SseEncodedEvents): SsePreparedEvents {
    return this.delivery.prepare(events);
  }

  close(target: SseTransportTarget): number {
    const closing: SseStream[] = [];
    this.registry.forEachTarget(target, (connection) => closing.push(connection));
    for (const connection of closing) connection.end('server');
    return closing.length;
  }

  clientIds(target: SseTransportTarget): string[] {
    const ids: string[] = [];
    this.registry.forEachTarget(target, (connection) => ids.push(connection.clientId));
    return ids;
  }

  names(): string[] {
    return this.registry.names();
  }

  groups(name: string): string[] {
    return this.registry.groups(name);
  }

  count(target?: SseTransportTarget): number {
    return target === undefined ? this.registry.size : this.registry.forEachTarget(target, () => undefined);
  }

  *connections(): Iterable<SseTransportConnection> {
    for (const connection of this.registry.open) if (connection.scope === 'global') yield connection;
  }
}
