import { Inject, Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import { isAddressedTo } from '../addressing/sse-target.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import type { SseClientConnection, SseCloseReason } from './sse-client-connection.js';
import type { SseTransport, SseTransportTarget } from '../interfaces/sse-transport.interface.js';
import type { SseLifecycleEvent } from '../interfaces/sse-connection-info.interface.js';

/** The global connections of one name, indexed for addressing without scanning. */
class SseNameIndex {
  readonly all = new Set<SseClientConnection>();
  readonly byClientId = new Map<string, SseClientConnection>();
  readonly byGroup = new Map<string, Set<SseClientConnection>>();

  add(connection: SseClientConnection): void {
    this.all.add(connection);
    this.byClientId.set(connection.clientId, connection);
    if (connection.group !== undefined) {
      let members = this.byGroup.get(connection.group);
      if (!members) this.byGroup.set(connection.group, (members = new Set()));
      members.add(connection);
    }
  }

  delete(connection: SseClientConnection): void {
    this.all.delete(connection);
    if (this.byClientId.get(connection.clientId) === connection) this.byClientId.delete(connection.clientId);
    if (connection.group !== undefined) {
      const members = this.byGroup.get(connection.group);
      members?.delete(connection);
      // Empty groups are dropped so that groups() lists only real ones.
      if (members?.size === 0) this.byGroup.delete(connection.group);
    }
  }
}

/**
 * Every open connection of this instance: the global ones indexed by
 * name → group / client id for addressing, and all of them (local too) for
 * keep-alive and shutdown. Announces global ones to the transport and emits
 * connect/disconnect events.
 */
@Injectable()
export class SseConnectionRegistry {
  /** Every open connection, both scopes. */
  readonly open = new Set<SseClientConnection>();
  private readonly byName = new Map<string, SseNameIndex>();
  private readonly lifecycle = new Subject<SseLifecycleEvent>();
  readonly events$ = this.lifecycle.asObservable();
  private shuttingDown = false;

  constructor(@Inject(SSE_TRANSPORT) private readonly transport: SseTransport) {}

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Adds a connection that has just opened (after `sse.open` and its replay). */
  add(connection: SseClientConnection): void {
    this.open.add(connection);
    if (connection.scope === 'global') {
      // A second connection with the same client id replaces the first (Pode keeps both).
      // Done first: closing the last client of a name drops the name's index.
      this.find(connection.name, connection.clientId)?.end('replaced');
      let index = this.byName.get(connection.name);
      if (!index) this.byName.set(connection.name, (index = new SseNameIndex()));
      index.add(connection);
      this.transport.register(connection);
    }
    // After sse.open, so that a welcome event sent by a listener never precedes it.
    this.lifecycle.next({ type: 'connect', connection: connection.info() });
    // A handler that was still pending when shutdown began opens too late for
    // closeAll(); left open, it would keep the HTTP server (and app.close()) waiting.
    if (this.shuttingDown) connection.end('shutdown');
  }

  /** Removes a connection that has closed. */
  remove(connection: SseClientConnection): void {
    this.open.delete(connection);
    const index = this.byName.get(connection.name);
    if (index && connection.scope === 'global') {
      index.delete(connection);
      this.transport.unregister(connection);
      // A name with no clients left is gone (Pode leaves it behind).
      if (index.all.size === 0) this.byName.delete(connection.name);
    }
    this.lifecycle.next({ type: 'disconnect', connection: connection.info() });
  }

  /**
   * Calls `visit` once per connection the target addresses; returns how many.
   * The indexes give exactly what `isAddressedTo` would for names and groups;
   * a client id's connection is checked against it (its group may not match).
   * The target's lists hold no repeats (see `normalizeTarget`).
   */
  forEachTarget(target: SseTransportTarget, visit: (connection: SseClientConnection) => void): number {
    let count = 0;
    const { names, groups, clientIds } = target;
    for (const name of names) {
      const index = this.byName.get(name);
      if (!index) continue;
      if (clientIds) {
        for (const clientId of clientIds) {
          const connection = index.byClientId.get(clientId);
          if (!connection || !isAddressedTo(target, connection)) continue;
          visit(connection);
          count++;
        }
      } else if (groups) {
        for (const group of groups) {
          const members = index.byGroup.get(group);
          if (!members) continue;
          for (const connection of members) visit(connection);
          count += members.size;
        }
      } else {
        for (const connection of index.all) visit(connection);
        count += index.all.size;
      }
    }
    return count;
  }

  /** The connection open under `name` with `clientId`, if any. */
  find(name: string, clientId: string): SseClientConnection | undefined {
    return this.byName.get(name)?.byClientId.get(clientId);
  }

  /** Names with at least one global connection. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Groups with at least one global connection under `name`. */
  groups(name: string): string[] {
    return [...(this.byName.get(name)?.byGroup.keys() ?? [])];
  }

  /** Global connections of `name`. */
  countOf(name: string): number {
    return this.byName.get(name)?.all.size ?? 0;
  }

  /** Every global connection. */
  get size(): number {
    let size = 0;
    for (const index of this.byName.values()) size += index.all.size;
    return size;
  }

  /** Closes every open connection (both scopes) and refuses new ones from now on. */
  closeAll(reason: SseCloseReason): void {
    this.shuttingDown = reason === 'shutdown' || this.shuttingDown;
    for (const connection of [...this.open]) connection.end(reason);
  }

  /** Ends the lifecycle stream (module teardown). */
  complete(): void {
    this.lifecycle.complete();
  }
}
