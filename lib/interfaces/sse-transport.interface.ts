/**
 * Who a send, close or query addresses, validated: every name, then (when
 * given) only those client ids, then (when given) only clients in those groups
 * (see `SseTarget`). An empty `groups` or `clientIds` list matches nobody.
 */
export interface SseTransportTarget {
  readonly names: readonly string[];
  readonly groups?: readonly string[];
  readonly clientIds?: readonly string[];
}

/** A global connection open on this instance, as a transport sees it. */
export interface SseTransportConnection {
  readonly name: string;
  readonly group: string | undefined;
  readonly clientId: string;
  /** Sends `sse.close` with reason `replaced` and ends the response (a later claim of its client id won). */
  end(reason: 'replaced'): void;
}

/**
 * The connections of this instance, which a transport delivers to. The module
 * hands it to `SseTransport.connect()`; every method is synchronous and touches
 * only this instance.
 */
export interface SseTransportHost {
  /**
   * Writes an encoded frame (one or several complete events, ready for the
   * socket) to every local connection the target addresses; returns how many.
   */
  deliver(target: SseTransportTarget, frame: Buffer): number;
  /** Closes (`sse.close`, reason `server`) every local connection the target addresses; returns how many. */
  close(target: SseTransportTarget): number;
  /** Client ids of the local connections the target addresses. */
  clientIds(target: SseTransportTarget): string[];
  /** Names with a local global connection. */
  names(): string[];
  /** Groups with a local connection under `name`. */
  groups(name: string): string[];
  /** How many local global connections the target addresses; all of them without a target. */
  count(target?: SseTransportTarget): number;
  /** Every local global connection, e.g. to announce them again after a reconnect. */
  connections(): Iterable<SseTransportConnection>;
}

/**
 * Carries SseHub's work between the instances of an application. The module
 * uses `MemoryTransport` (this instance only) unless `SseModuleOptions.transport`
 * names another one, e.g. `RedisTransport` from `nestjs-sse-hub/redis`.
 *
 * Writing a transport (NATS, Postgres, ...) means keeping these promises:
 * - **Delivery flows through the transport.** `publish` resolves only once the
 *   frame has been accepted for every instance (each will `host.deliver` it
 *   exactly once, in the order sends were accepted); it rejects with
 *   `SseTransportError`, after a bounded wait, when it was accepted nowhere.
 *   Ship the frame as it is: it is encoded once, on the sending instance.
 * - **Presence.** `register` / `unregister` are called synchronously as local
 *   connections open and close; the transport makes them visible to every
 *   instance's queries, and makes those of a crashed instance disappear after
 *   a bounded time. A later claim of the same name + client id anywhere wins;
 *   the earlier connection is ended with `end('replaced')` where it lives.
 * - **Queries and close are cluster-wide**; `close` resolves with the number
 *   of connections closed on every instance (waiting, bounded, for answers).
 * - **Never crash the app**: failures of the backend are reported through
 *   rejected promises (`SseTransportError`) or logged, never thrown from a
 *   timer or an event handler.
 *
 * The module calls `connect` in `onApplicationBootstrap` and `disconnect` in
 * `onApplicationShutdown`. Inject the transport in use with
 * `@Inject(SSE_TRANSPORT)`.
 */
export interface SseTransport {
  /** Starts the transport for this instance; `host` is where frames for local connections go. */
  connect(host: SseTransportHost): Promise<void>;
  /** Stops it: withdraws this instance's presence, stops reading, closes backend connections. */
  disconnect(): Promise<void>;
  /** Delivers a frame to every connection the target addresses on every instance; resolves with how many were addressed. */
  publish(target: SseTransportTarget, frame: Buffer): Promise<number>;
  /** Closes every connection the target addresses on every instance; resolves with how many were closed. */
  close(target: SseTransportTarget): Promise<number>;
  /** Announces a local global connection (called right before its `sse.open` is written). */
  register(connection: SseTransportConnection): void;
  /** Withdraws a local global connection that closed. */
  unregister(connection: SseTransportConnection): void;
  /** Names with at least one open global connection anywhere. */
  names(): Promise<string[]>;
  /** Groups with at least one open connection under `name` anywhere. */
  groups(name: string): Promise<string[]>;
  /** Client ids of the connections the target addresses anywhere. */
  clientIds(target: SseTransportTarget): Promise<string[]>;
  /** How many global connections the target addresses anywhere; all of them without a target. */
  count(target?: SseTransportTarget): Promise<number>;
}
