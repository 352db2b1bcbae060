import { Inject, Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';
import { isAddressedTo } from '../addressing/sse-target.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import type { SseClientConnection, SseCloseReason } from './sse-client-connection.js';
import type { SseTransport, SseTransportTarget } from '../interfaces/sse-transport.interface.js';
import type { SseLifecycleEvent } from '../interfaces/sse-connection-info.interface.js';

type Members = Set<SseClientConnection>;

const addTo = (index: Map<string, Members>, key: string, connection: SseClientConnection) => {
  let members = index.get(key);
  if (!members) index.set(key, (members = new Set()));
  members.add(connection);
};

// Empty sets are dropped, so that groups() lists only real groups and nothing is left behind.
const removeFrom = (index: Map<string, Members>, key: string, connection: SseClientConnection) => {
  const members = index.get(key);
  if (members?.delete(connection) && members.size === 0) index.delete(key);
};

/** The global connections of one name, indexed for addressing without scanning. */
class SseNameIndex {
  readonly all: Members = new Set();
  readonly byClientId = new Map<string, SseClientConnection>();
  readonly byGroup = new Map<string, Members>();
  readonly byUser = new Map<string, Members>();

  add(connection: SseClientConnection): void {
    this.all.add(connection);
    this.byClientId.set(connection.clientId, connection);
    for (const group of connection.groups) addTo(this.byGroup, group, connection);
    if (connection.user !== undefined) addTo(this.byUser, connection.user, connection);
  }

  delete(connection: SseClientConnection): void {
    this.all.delete(connection);
    if (this.byClientId.get(connection.clientId) === connection) this.byClientId.delete(connection.clientId);
    for (const group of connection.groups) removeFrom(this.byGroup, group, connection);
    if (connection.user !== undefined) removeFrom(this.byUser, connection.user, connection);
  }
}

/**
 * Every open connection of this instance: the global ones indexed by
 * name → client id / user / group for addressing, and all of them (local
 * too) for keep-alive and shutdown. Announces global ones to the transport
 * and emits connect/disconnect events.
 */
@Injectable()
export class SseConnectionRegistry {
  /** Every open connection, both scopes. */
  readonly open = new Set<SseClientConnection>();
  private readonly byName = new Map<string, SseNameIndex>();
  private readonly lifecycle = new Subject<SseLifecycleEvent>();
  readonly events$ = this.lifecycle.asObservable();
  private shuttingDown = false;
  /** Marks connections already visited by the current walk (a connection in two listed groups counts once). */
  private walk = 0;

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

  /** Re-indexes an open global connection whose groups changed from `before` to its current ones. */
  regroup(connection: SseClientConnection, before: readonly string[]): void {
    const index = this.byName.get(connection.name);
    if (!index?.all.has(connection)) return;
    for (const group of before) if (!connection.groups.includes(group)) removeFrom(index.byGroup, group, connection);
    for (const group of connection.groups) if (!before.includes(group)) addTo(index.byGroup, group, connection);
  }

  /**
   * Calls `visit` once per connection the target addresses; returns how many.
   * The most selective index gives the candidates (client ids, else users,
   * else groups, else the whole name); each is checked against
   * `isAddressedTo` only where the index alone does not answer for the
   * whole target. The target's lists hold no repeats (see `normalizeTarget`).
   */
  forEachTarget(target: SseTransportTarget, visit: (connection: SseClientConnection) => void): number {
    let count = 0;
    const { names, groups, clientIds, users } = target;
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
      } else if (users) {
        for (const user of users) {
          for (const connection of index.byUser.get(user) ?? []) {
            if (groups && !isAddressedTo(target, connection)) continue;
            visit(connection);
            count++;
          }
        }
      } else if (groups) {
        count += groups.length === 1 ? visitAll(index.byGroup.get(groups[0]), visit) : this.visitUnion(index.byGroup, groups, visit);
      } else {
        count += visitAll(index.all, visit);
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

  /** Visits the members of several groups, each connection once. */
  private visitUnion(byGroup: Map<string, Members>, groups: readonly string[], visit: (connection: SseClientConnection) => void): number {
    const walk = ++this.walk;
    let count = 0;
    for (const group of groups) {
      for (const connection of byGroup.get(group) ?? []) {
        if (connection.visitMark === walk) continue;
        connection.visitMark = walk;
        visit(connection);
        count++;
      }
    }
    return count;
  }
}

function visitAll(members: Members | undefined, visit: (connection: SseClientConnection) => void): number {
  if (!members) return 0;
  for (const connection of members) visit(connection);
  return members.size;
}
