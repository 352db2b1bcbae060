import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SseConnectionRegistry } from '../connection/sse-connection.registry.js';
import { SseSettings } from '../config/sse-settings.js';
import { SseHistory } from '../history/sse-history.js';
import { SseCounters } from './sse-counters.js';
import { eventTypeOf } from './sse-frame.encoder.js';
import { SseStopTokens } from '../connection/sse-stop-tokens.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import type { SseClientConnection, SseConnectionHooks, SseRegrouping } from '../connection/sse-client-connection.js';
import type { SseCloseOptions, SseJoinOptions } from '../interfaces/sse-event.interface.js';
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
  readonly historyLimits: { readonly size: number; readonly ttl: number };

  constructor(
    private readonly registry: SseConnectionRegistry,
    @Inject(SseHistory) private readonly history: SseHistory,
    private readonly counters: SseCounters,
    private readonly stops: SseStopTokens,
    settings: SseSettings,
    @Inject(SSE_TRANSPORT) private readonly transport: SseTransport,
  ) {
    this.historyLimits = { size: settings.history.size, ttl: settings.history.ttl };
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
    return this.registry.forEachTarget(target, (connection) => connection.writeLive(events));
  }

  /**
   * Before a global connection opens (its handler runs): the transport makes
   * it reachable, and the history gets ready to replay what it missed.
   * Nothing to wait for in memory.
   */
  prepare(connection: SseClientConnection): Promise<void> | undefined {
    const attaching = this.transport.attach?.(connection);
    const { lastEventId } = connection;
    const preparing = lastEventId === undefined ? undefined : this.history.prepare?.(connection, lastEventId);
    if (!attaching && !preparing) return undefined;
    if (preparing) connection.onClose(() => this.history.release?.(connection));
    return Promise.all([attaching?.then((detach) => connection.onClose(detach)), preparing]).then(() => undefined);
  }

  private record(target: SseTransportTarget, events: SsePreparedEvents): void {
    // A copy: the caller may reuse its arrays after send().
    const recorded: SseTransportTarget = {
      names: [...target.names],
      groups: target.groups && [...target.groups],
      clientIds: target.clientIds && [...target.clientIds],
      users: target.users && [...target.users],
    };
    const sentAt = Date.now();
    const { ids, frames, modes, orders } = events;
    for (let i = 0; i < ids.length; i++) {
      const mode = modes?.[i];
      const order = orders?.[i];
      if (mode === undefined || mode === 'all') this.history.append({ id: ids[i], frame: frames[i], target: recorded, sentAt, order });
      else this.history.append({ id: ids[i], frame: frames[i], target: recorded, sentAt, order, mode, type: eventTypeOf(frames[i]) });
    }
  }

  /** {@inheritDoc SseConnectionHooks.opened} */
  opened(connection: SseClientConnection): void {
    const { lastEventId } = connection;
    if (connection.scope === 'global' && lastEventId !== undefined) {
      const replay = this.history.since(connection, lastEventId);
      this.counters.resumed(replay.lostTopics.length > 0, connection.name);
      connection.resume(replay, lastEventId);
    }
    if (connection.isOpen) this.registry.add(connection);
  }

  /** {@inheritDoc SseConnectionHooks.regrouped} */
  regrouped(connection: SseClientConnection, before: readonly string[], options: SseJoinOptions): Promise<void> {
    this.registry.regroup(connection, before);
    const announced = this.transport.update(connection);
    const backfill = options.replay ?? 0;
    if (backfill === 0) return announced;
    const joined = connection.groups.filter((group) => !before.includes(group));
    const recent = joined.map((group) => this.history.recent(connection, group, backfill));
    // Each event once, although a multi-group send sits in several groups' topics.
    const write = (lists: Buffer[][]) => connection.writeReplay([...new Set(lists.flat())]);
    // Written at once when the history has it at hand, so it precedes any send that follows the join.
    if (recent.every((frames): frames is Buffer[] => Array.isArray(frames))) {
      write(recent);
      return announced;
    }
    return Promise.all([announced, Promise.all(recent)]).then(([, lists]) => write(lists));
  }

  /** {@inheritDoc SseConnectionHooks.closed} */
  closed(connection: SseClientConnection): void {
    this.registry.remove(connection);
  }

  /** {@inheritDoc SseConnectionHooks.stopping} */
  stopping(connection: SseClientConnection): string {
    void this.stops.stopClient(connection.name, connection.clientId);
    return this.stops.issue(connection.name);
  }

  close(target: SseTransportTarget, options: SseCloseOptions = {}): number {
    const closing: SseClientConnection[] = [];
    this.registry.forEachTarget(target, (connection) => closing.push(connection));
    if (options.reconnect !== false) {
      for (const connection of closing) connection.end('server');
      return closing.length;
    }
    // One stop token per name for this close, however many connections it ends.
    const tokens = new Map<string, string>();
    for (const connection of closing) {
      let token = tokens.get(connection.name);
      if (token === undefined) tokens.set(connection.name, (token = this.stops.issue(connection.name)));
      void this.stops.stopClient(connection.name, connection.clientId);
      connection.end('server', token);
    }
    return closing.length;
  }

  join(target: SseTransportTarget, groups: readonly string[], options: SseJoinOptions): Promise<number> {
    return this.regroupAll(target, (connection) => connection.regroup('join', groups, options));
  }

  leave(target: SseTransportTarget, groups: readonly string[]): Promise<number> {
    return this.regroupAll(target, (connection) => connection.regroup('leave', groups, {}));
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

  /**
   * Applies a group change to every local connection the target addresses,
   * at once (sends that follow see it); resolves with how many changed once
   * the transport has announced every change.
   */
  private async regroupAll(target: SseTransportTarget, change: (connection: SseClientConnection) => SseRegrouping): Promise<number> {
    const addressed: SseClientConnection[] = [];
    this.registry.forEachTarget(target, (connection) => addressed.push(connection));
    const changes = addressed.map(change).filter((regrouping) => regrouping.changed);
    await Promise.all(changes.map((regrouping) => regrouping.announced));
    return changes.length;
  }

  *connections(): Iterable<SseTransportConnection> {
    for (const connection of this.registry.open) if (connection.scope === 'global') yield connection;
  }
}
