import { SseConnectionRegistry } from '../../lib/connection/sse-connection.registry.js';
import type { SseClientConnection, SseCloseReason } from '../../lib/connection/sse-client-connection.js';
import type { SseTransport, SseTransportTarget } from '../../lib/interfaces/sse-transport.interface.js';
import type { SseLifecycleEvent } from '../../lib/interfaces/sse-connection-info.interface.js';

/**
 * Just what the registry reads of a connection; `end` removes it as the real
 * one does once its response has closed.
 */
class FakeConnection {
  visitMark = 0;
  readonly ends: SseCloseReason[] = [];
  registry?: SseConnectionRegistry;
  constructor(
    readonly name: string,
    readonly clientId: string,
    public groups: string[] = [],
    readonly user?: string,
    readonly scope: 'global' | 'local' = 'global',
  ) {}
  end(reason: SseCloseReason): void {
    this.ends.push(reason);
    this.registry?.remove(this as unknown as SseClientConnection);
  }
  info() {
    return { name: this.name, clientId: this.clientId, groups: this.groups, user: this.user, scope: this.scope };
  }
}

/** A transport that records which connections it was told about. */
function recordingTransport() {
  const registered = new Set<string>();
  const transport = {
    register: (connection: SseClientConnection) => registered.add(`${connection.name}/${connection.clientId}`),
    unregister: (connection: SseClientConnection) => registered.delete(`${connection.name}/${connection.clientId}`),
  };
  return { transport: transport as unknown as SseTransport, registered };
}

function setup() {
  const { transport, registered } = recordingTransport();
  const registry = new SseConnectionRegistry(transport);
  const events: SseLifecycleEvent[] = [];
  registry.events$.subscribe((event) => events.push(event));
  const open = (...args: ConstructorParameters<typeof FakeConnection>) => {
    const connection = new FakeConnection(...args);
    connection.registry = registry;
    registry.add(connection as unknown as SseClientConnection);
    return connection;
  };
  const visited = (target: Partial<SseTransportTarget> & { names: string[] }) => {
    const ids: string[] = [];
    const count = registry.forEachTarget(target as SseTransportTarget, (connection) => ids.push(connection.clientId));
    expect(count).toBe(ids.length);
    return ids.sort();
  };
  return { registry, registered, events, open, visited };
}

describe('SseConnectionRegistry', () => {
  it('indexes global connections by name, client id, group and user, and tells the transport', () => {
    const { registry, registered, open } = setup();
    open('chat', 'a', ['room1'], 'ann');
    open('chat', 'b', ['room1', 'room2']);
    open('feed', 'c');
    expect(registry.names().sort()).toEqual(['chat', 'feed']);
    expect(registry.groups('chat').sort()).toEqual(['room1', 'room2']);
    expect(registry.countOf('chat')).toBe(2);
    expect(registry.size).toBe(3);
    expect(registry.find('chat', 'b')?.clientId).toBe('b');
    expect(registry.find('feed', 'b')).toBeUndefined();
    expect([...registered].sort()).toEqual(['chat/a', 'chat/b', 'feed/c']);
  });

  it('keeps local connections out of the indexes and the transport, but in open (for keep-alive and shutdown)', () => {
    const { registry, registered, open, visited } = setup();
    open('chat', 'l', ['room1'], 'ann', 'local');
    expect(registry.open.size).toBe(1);
    expect(registry.size).toBe(0);
    expect(registry.names()).toEqual([]);
    expect(registered.size).toBe(0);
    expect(visited({ names: ['chat'] })).toEqual([]);
  });

  it('addresses by the most selective index and checks the rest of the target', () => {
    const { open, visited } = setup();
    open('chat', 'a', ['room1'], 'ann');
    open('chat', 'b', ['room1', 'room2'], 'bob');
    open('chat', 'c', ['room2'], 'ann');
    open('chat', 'd');
    open('feed', 'e', ['room1'], 'ann');
    expect(visited({ names: ['chat'] })).toEqual(['a', 'b', 'c', 'd']);
    expect(visited({ names: ['chat', 'feed'] })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(visited({ names: ['chat'], groups: ['room1'] })).toEqual(['a', 'b']);
    expect(visited({ names: ['chat'], users: ['ann'] })).toEqual(['a', 'c']);
    expect(visited({ names: ['chat'], users: ['ann'], groups: ['room2'] })).toEqual(['c']);
    expect(visited({ names: ['chat'], clientIds: ['a', 'b', 'zz'] })).toEqual(['a', 'b']);
    expect(visited({ names: ['chat'], clientIds: ['a', 'b'], groups: ['room2'] })).toEqual(['b']);
    expect(visited({ names: ['nobody'] })).toEqual([]);
    expect(visited({ names: ['chat'], groups: ['empty'] })).toEqual([]);
  });

  it('visits a connection in several listed groups once', () => {
    const { open, visited } = setup();
    open('chat', 'a', ['room1', 'room2', 'room3']);
    open('chat', 'b', ['room2']);
    expect(visited({ names: ['chat'], groups: ['room1', 'room2', 'room3'] })).toEqual(['a', 'b']);
    // A second walk is not confused by the marks of the first.
    expect(visited({ names: ['chat'], groups: ['room3', 'room2'] })).toEqual(['a', 'b']);
  });

  it('re-indexes a connection whose groups changed', () => {
    const { registry, open, visited } = setup();
    const a = open('chat', 'a', ['room1']);
    const before = a.groups;
    a.groups = ['room2'];
    registry.regroup(a as unknown as SseClientConnection, before);
    expect(visited({ names: ['chat'], groups: ['room1'] })).toEqual([]);
    expect(visited({ names: ['chat'], groups: ['room2'] })).toEqual(['a']);
    expect(registry.groups('chat')).toEqual(['room2']);
  });

  it('replaces a connection that reuses an open client id (the first ends "replaced")', () => {
    const { registry, open, visited } = setup();
    const first = open('chat', 'a', ['room1']);
    const second = open('chat', 'a', ['room2']);
    expect(first.ends).toEqual(['replaced']);
    expect(second.ends).toEqual([]);
    expect(registry.find('chat', 'a')).toBe(second);
    expect(visited({ names: ['chat'], groups: ['room1'] })).toEqual([]);
    expect(visited({ names: ['chat'] })).toEqual(['a']);
  });

  it('leaves nothing behind once every connection of a name has gone', () => {
    const { registry, registered, open } = setup();
    const connections = Array.from({ length: 100 }, (_, i) => open(`name${i % 7}`, `c${i}`, [`g${i}`], `u${i % 3}`));
    for (const connection of connections) registry.remove(connection as unknown as SseClientConnection);
    expect(registry.names()).toEqual([]);
    expect(registry.size).toBe(0);
    expect(registry.open.size).toBe(0);
    expect(registered.size).toBe(0);
  });

  it('emits connect after add and disconnect after remove', () => {
    const { registry, events, open } = setup();
    const a = open('chat', 'a');
    registry.remove(a as unknown as SseClientConnection);
    expect(events.map((event) => `${event.type}:${event.connection.clientId}`)).toEqual(['connect:a', 'disconnect:a']);
  });

  it('closeAll ends every connection of both scopes; after a shutdown, a late connection is ended at once', () => {
    const { registry, open } = setup();
    const global = open('chat', 'a');
    const local = open('chat', 'b', [], undefined, 'local');
    registry.closeAll('shutdown');
    expect(global.ends).toEqual(['shutdown']);
    expect(local.ends).toEqual(['shutdown']);
    expect(registry.isShuttingDown).toBe(true);
    const late = open('chat', 'c');
    expect(late.ends).toEqual(['shutdown']);
    expect(registry.open.size).toBe(0);
  });

  it('closeAll for another reason does not refuse later connections', () => {
    const { registry, open } = setup();
    open('chat', 'a');
    registry.closeAll('server');
    expect(registry.isShuttingDown).toBe(false);
    expect(open('chat', 'b').ends).toEqual([]);
  });
});
