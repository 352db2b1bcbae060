import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SseConnectionRegistry } from '../connection/sse-connection.registry.js';
import { SseSettings } from '../config/sse-settings.js';
import { SseHistory } from '../history/sse-history.js';
import { SseCounters } from './sse-counters.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import type { SseClientConnection, SseConnectionHooks } from '../connection/sse-client-connection.js';
import type {
  SseLocalConnections,
  SsePreparedEvents,
  SseTransport,
  SseTransportConnection,
  SseTransportTarget,
} from '../interfaces/sse-transport.interface.js';

/**
 * The receiving side of delivery, on every instance: the transport hands each
 * send here once, with its final ids; it is recorded in this instance's
 * history, then written to the local connections it addresses. Connections
 * report here as they open (replay, then registration) and close. It connects
 * the transport at bootstrap and disconnects it once the app is down.
 */
@Injectable()
export class SseLocalDelivery implements SseLocalConnections, SseConnectionHooks, OnApplicationBootstrap, OnApplicationShutdown {
  readonly historyTtl: number;

  constructor(
    private readonly registry: SseConnectionRegistry,
    @Inject(SseHistory) private readonly history: SseHistory,
    private readonly counters: SseCounters,
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
    this.record(target, events);
    const { frame } = events;
    return this.registry.forEachTarget(target, (connection) => connection.write(frame));
  }

  record(target: SseTransportTarget, events: SsePreparedEvents): void {
    // A copy: the caller may reuse its arrays after send().
    const recorded: SseTransportTarget = {
      names: [...target.names],
      groups: target.groups && [...target.groups],
      clientIds: target.clientIds && [...target.clientIds],
    };
    const sentAt = Date.now();
    const { ids, frames } = events;
    for (let i = 0; i < ids.length; i++) this.history.append({ id: ids[i], frame: frames[i], target: recorded, sentAt });
  }

  /** {@inheritDoc SseConnectionHooks.opened} */
  opened(connection: SseClientConnection): void {
    const { lastEventId } = connection;
    if (connection.scope === 'global' && lastEventId !== undefined) {
      const replay = this.history.since(connection, lastEventId);
      this.counters.resumed(replay.kind === 'gap', connection.name);
      connection.resume(replay, lastEventId);
    }
    if (connection.isOpen) this.registry.add(connection);
  }

  /** {@inheritDoc SseConnectionHooks.closed} */
  closed(connection: SseClientConnection): void {
    this.registry.remove(connection);
  }

  close(target: SseTransportTarget): number {
    const closing: SseClientConnection[] = [];
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
