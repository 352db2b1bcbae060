import type { SseTransportTarget } from './sse-transport-target.interface.js';
export type { SseTransportTarget } from './sse-transport-target.interface.js';
import type { SseCloseOptions, SseJoinOptions, SseReplayMode } from './sse-event.interface.js';
import type { SseHistory } from './sse-history.interface.js';
import type { SseStreamStore } from './sse-stream-store.interface.js';
export type { SseReplayMode } from './sse-event.interface.js';

/**
 * One send (one event or several), validated and encoded once on the sending
 * instance, before ids are decided. The final frame of event `i` is
 * `id: <id>\n` followed by `texts[i]`.
 */
export interface SseEncodedEvents {
  /** Each event's frame text without its `id:` line (fields, `data:` lines, blank line). */
  readonly texts: readonly string[];
  /** Each event's own id (`SseEvent.id`), or `undefined` where the transport decides the id. */
  readonly ids: readonly (string | undefined)[];
  /**
   * Each event's replay mode, present only when one of them is not `'all'`.
   * A transport carries it as it is to every instance (`frameEvents` takes it).
   */
  readonly modes?: readonly SseReplayMode[];
}

/**
 * A send with its final ids, ready for the sockets and the history (built with
 * the encoder's `frameEvents` by the transport that decided the ids).
 */
export interface SsePreparedEvents<Id extends string | undefined = string> {
  /** Each event's id, in order. */
  readonly ids: readonly Id[];
  /** Each event's complete frame, in order (the history keeps these). */
  readonly frames: readonly Buffer[];
  /** All frames in one buffer: what every live recipient gets, in one write. */
  readonly frame: Buffer;
  /** Each event's place in its name's order, when the transport keeps one (Redis). */
  readonly orders?: readonly string[];
  /** Each event's replay mode, when one of them is not `'all'` (see `SseEncodedEvents.modes`). */
  readonly modes?: readonly SseReplayMode[];
}

/** A global connection open on this instance, as a transport sees it. */
export interface SseTransportConnection {
  readonly name: string;
  /** Its groups, in join order; they change (see `SseTransport.update`). */
  readonly groups: readonly string[];
  readonly user: string | undefined;
  readonly clientId: string;
  /** When it connected. */
  readonly connectedAt: Date;
  /** The `Last-Event-ID` it connected with, if any. */
  readonly lastEventId: string | undefined;
  /** Sends `sse.close` with reason `replaced` and ends the response (a later claim of its client id won). */
  end(reason: 'replaced'): void;
}

/** An open global connection somewhere in the cluster, as `SseTransport.find` describes it. */
export interface SseTransportPeer {
  readonly groups: readonly string[];
  readonly user: string | undefined;
  readonly connectedAt: Date;
  readonly lastEventId: string | undefined;
}

/**
 * The connections of this instance, which a transport delivers to: the module
 * hands them to `SseTransport.connect()`. Every method is synchronous and
 * touches only this instance. (Named `SseTransportHost` before 0.2.)
 */
export interface SseLocalConnections {
  /**
   * Records a send in this instance's history (for `Last-Event-ID` replay) and
   * writes its frame to every local connection the target addresses; returns
   * how many. Call it for every send of the cluster, in one order on every
   * instance, with the ids the transport decided.
   */
  deliver(target: SseTransportTarget, events: SsePreparedEvents): number;
  /** The module's history limits (events per topic, ms each stays), for a transport that keeps history itself. */
  readonly historyLimits: { readonly size: number; readonly ttl: number };
  /**
   * Closes (`sse.close`, reason `server`) every local connection the target
   * addresses; returns how many. With `reconnect: false` each gets a stop
   * token and its client id is marked stopped (`SseTransport.markStopped`).
   */
  close(target: SseTransportTarget, options?: SseCloseOptions): number;
  /**
   * Adds the local connections the target addresses to `groups` at once (with
   * the replay `options` asks for); resolves with how many gained a group once
   * the transport has announced each change.
   */
  join(target: SseTransportTarget, groups: readonly string[], options: SseJoinOptions): Promise<number>;
  /** Takes the local connections the target addresses out of `groups`; resolves with how many lost one. */
  leave(target: SseTransportTarget, groups: readonly string[]): Promise<number>;
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
 *   send has been accepted for every instance (each will `local.deliver` it
 *   exactly once, in the order sends were accepted, with the same ids
 *   everywhere); it rejects with `SseTransportError`, after a bounded wait,
 *   when it was accepted nowhere. Ship the encoded texts as they are: they are
 *   encoded once, on the sending instance; only the `id:` line is added
 *   (`frameEvents` from the encoder does exactly that).
 * - **Ids order events.** Ids the transport decides must grow in the order
 *   sends are accepted, across instances and restarts.
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
  /** Starts the transport for this instance; `local` is where frames for its own connections go. */
  connect(local: SseLocalConnections): Promise<void>;
  /** Stops it: withdraws this instance's presence, stops reading, closes backend connections. */
  disconnect(): Promise<void>;
  /**
   * Decides the ids of the events that have none, and delivers the send to
   * every connection the target addresses on every instance; resolves with
   * how many were addressed.
   */
  publish(target: SseTransportTarget, events: SseEncodedEvents): Promise<number>;
  /**
   * Optional. Where sends are kept for replay when the transport keeps them
   * itself (e.g. in Redis, per topic); the module then uses it instead of its
   * in-memory history.
   */
  readonly history?: SseHistory;
  /**
   * Optional. Where resumable streams are recorded when the transport keeps
   * them itself (e.g. one Redis key per stream), so that any instance can
   * follow them; else each instance keeps its own in memory.
   */
  readonly streams?: SseStreamStore;
  /**
   * Optional. Makes a global connection reachable before it opens (e.g.
   * subscribes this instance to its topics): sends accepted after it resolves
   * reach it. Resolves with a function that lets go of that when the
   * connection closes. Never rejects (a transport that cannot reach its
   * backend resolves, and the connection replays what it can).
   */
  attach?(connection: SseTransportConnection): Promise<() => void>;
  /**
   * Closes every connection the target addresses on every instance (each
   * instance calls `local.close(target, options)`); resolves with how many were closed.
   */
  close(target: SseTransportTarget, options?: SseCloseOptions): Promise<number>;
  /**
   * Adds the connections the target addresses on every instance to `groups`,
   * in order with sends (a send accepted after `join` resolved reaches them);
   * resolves with how many gained a group, once every instance's presence shows it.
   */
  join(target: SseTransportTarget, groups: readonly string[], options: SseJoinOptions): Promise<number>;
  /** Takes the connections the target addresses on every instance out of `groups`; resolves with how many lost one. */
  leave(target: SseTransportTarget, groups: readonly string[]): Promise<number>;
  /** Announces a local global connection (called right before its `sse.open` is written). */
  register(connection: SseTransportConnection): void;
  /** Withdraws a local global connection that closed. */
  unregister(connection: SseTransportConnection): void;
  /**
   * Announces that a local connection's groups changed; resolves once every
   * instance's queries see it (rejects with `SseTransportError` when it cannot).
   */
  update(connection: SseTransportConnection): Promise<void>;
  /** Names with at least one open global connection anywhere. */
  names(): Promise<string[]>;
  /** Groups with at least one open connection under `name` anywhere. */
  groups(name: string): Promise<string[]>;
  /** Client ids of the connections the target addresses anywhere. */
  clientIds(target: SseTransportTarget): Promise<string[]>;
  /** How many global connections the target addresses anywhere; all of them without a target. */
  count(target?: SseTransportTarget): Promise<number>;
  /**
   * Optional. Resolves when the backend answers, rejects with
   * `SseTransportError` (after a bounded wait) when it does not: what
   * `SseHealthIndicator` calls "reachable". A transport without it is
   * reachable whenever this instance runs.
   */
  ping?(): Promise<void>;
  /**
   * Optional. The connection open under `name` with `clientId` on another
   * instance, if any: lets `@SseContext()` on an ordinary route reach a
   * connection that lives elsewhere (`X-Sse-Name` / `X-Sse-Client-Id`).
   */
  find?(name: string, clientId: string): Promise<SseTransportPeer | undefined>;
  /**
   * Optional. Remembers for `ttlMs`, for every instance, that `key` (a client
   * id or a stop token, prefixed by kind) of `name` was stopped for good
   * (`close(target, { reconnect: false })`). Without it, each instance
   * remembers its own. Never rejects (a failure is logged).
   */
  markStopped?(name: string, key: string, ttlMs: number): Promise<void>;
  /** Optional. True while `markStopped(name, key)` holds anywhere; false when it cannot tell (never rejects). */
  isStopped?(name: string, key: string): Promise<boolean>;
}
