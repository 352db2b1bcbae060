import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Observable, Observer } from 'rxjs';
import { SseConnectionRegistry } from './connection/sse-connection.registry.js';
import { SseClientIds, type SseClientBinding } from './connection/sse-client-id.service.js';
import { SseSettings } from './config/sse-settings.js';
import { SseCounters } from './delivery/sse-counters.js';
import { SsePublisher } from './delivery/sse-publisher.js';
import { SseSendObserver } from './delivery/sse-send-observer.js';
import { assertEvent } from './delivery/sse-frame.encoder.js';
import { assertIdentifier } from './addressing/identifiers.js';
import { identifierList, normalizeTarget, type NormalizedTarget } from './addressing/sse-target.js';
import { assertBroadcastLevel, assertIntegerAtLeast, mayReconnect } from './config/value-checks.js';
import { SseStopTokens } from './connection/sse-stop-tokens.js';
import { SseBroadcastLevelError } from './errors/sse-broadcast-level.error.js';
import { SseInvalidArgumentError } from './errors/sse-invalid-argument.error.js';
import { SseMessages } from './sse.messages.js';
import type { SseBroadcastLevel } from './interfaces/sse-broadcast-level.type.js';
import type {
  SseCloseOptions,
  SseEvent,
  SseEventMap,
  SseEventOf,
  SseJoinOptions,
  SseSendResult,
  SseTarget,
} from './interfaces/sse-event.interface.js';
import type { SseLifecycleEvent } from './interfaces/sse-connection-info.interface.js';
import type { SseObserverOptions } from './interfaces/sse-observer-options.interface.js';
import type { SseStats } from './interfaces/sse-stats.interface.js';
import type { SseTransport } from './interfaces/sse-transport.interface.js';
import { SSE_TRANSPORT } from './transports/sse-transport.token.js';
import { SseStreams } from './streams/sse-streams.service.js';

/**
 * Sends events to open connections and answers questions about them, from any
 * provider, controller or scheduled job. The Nest counterpart of Pode's
 * `Send-PodeSseEvent`, `Close-PodeSseConnection` and `Test-PodeSse*`.
 *
 * Queries return Promises so that the same API can span several instances.
 *
 * Typed sends: inject it as `SseHub<Events>` with an event map declared once
 * (the browser client takes the same map), and `send` accepts only the
 * declared types with their payloads. The type argument is for the compiler
 * only: every `SseHub<…>` is the one `SseHub` instance.
 *
 * @example
 * ```ts
 * type ChatEvents = { chat: { text: string }; clock: { now: number } };
 * constructor(private readonly hub: SseHub<ChatEvents>) {}
 * hub.send({ name: 'events' }, { event: 'clock', data: { now: Date.now() } });
 * ```
 */
@Injectable()
export class SseHub<Events extends object = SseEventMap> {
  /** Every connect and disconnect, of both scopes. */
  readonly events$: Observable<SseLifecycleEvent>;
  private readonly logger = new Logger('SseHub');

  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly ids: SseClientIds,
    private readonly settings: SseSettings,
    private readonly publisher: SsePublisher,
    private readonly counters: SseCounters,
    private readonly stops: SseStopTokens,
    @Inject(SSE_TRANSPORT) private readonly transport: SseTransport,
    private readonly streams: SseStreams,
  ) {
    this.events$ = registry.events$;
  }

  /**
   * Sends one event, or several in one write, to every connection the target
   * addresses. Validates everything first: a bad target or event, or a send
   * the broadcast level forbids, throws and sends nothing. A send to nobody
   * resolves with `delivered: 0` (it is still recorded: a client id that
   * reconnects in time gets it).
   *
   * Every event carries an `id:`: its own `id`, else a generated one
   * (`<generation>-<sequence>`, ordered as strings within and across restarts;
   * with `RedisTransport`, `<ms>-<seq>` decided by Redis for the whole cluster).
   * Events are kept in the history of each target name for `Last-Event-ID` replay.
   *
   * With a cluster transport the promise resolves once the send was accepted
   * for every instance (`delivered` counts the connections it addresses there)
   * and rejects with `SseTransportError` when it was accepted nowhere.
   */
  // Generic per call (not in the parameter itself) so that every SseHub<…> stays assignable to SseHub and back.
  async send<TEvent extends SseEventOf<Events>>(target: SseTarget, event: TEvent | readonly TEvent[]): Promise<SseSendResult> {
    const startedAt = performance.now();
    return { delivered: await this.sendTo(normalizeTarget(target), event, startedAt) };
  }

  /**
   * An RxJS `Observer` that sends each value of a stream to the target:
   * `prices$.subscribe(hub.to({ name: 'prices' }, { event: 'price' }))`.
   * A value is the event's `data` (typed `options.event`), or
   * `options.toEvent(value)` builds the event. The target and options are
   * checked here (throwing `SseInvalidArgumentError` / `SseBroadcastLevelError`);
   * after that nothing is thrown into RxJS: a value that cannot be sent is
   * logged and counted (`stats().streamErrors`), sends the transport rejects
   * are logged once per outage (and count as `transportErrors`), and a stream
   * that errors is logged and counted. Values are sent in the order they come.
   */
  to<T>(target: SseTarget, options: SseObserverOptions<T> = {}): Observer<T> {
    const normalized = normalizeTarget(target);
    this.assertBroadcastAllowed(normalized);
    const { event, toEvent } = options;
    if (event !== undefined && toEvent !== undefined) throw new SseInvalidArgumentError(SseMessages.observerOptions());
    if (toEvent !== undefined && typeof toEvent !== 'function') {
      throw new SseInvalidArgumentError(SseMessages.invalidValue('SseHub.to() toEvent', 'a function', toEvent));
    }
    // A bad type would refuse every value: refused once, here.
    if (event !== undefined) assertEvent({ event, data: null });
    const sink = {
      names: normalized.names,
      toEvents: toEvent ?? ((value: T): SseEvent<unknown> => (event === undefined ? { data: value } : { event, data: value })),
      send: (events: SseEvent<unknown> | readonly SseEvent<unknown>[]) => this.sendTo(normalized, events, performance.now()),
    };
    return new SseSendObserver(sink, this.counters, this.logger);
  }

  /** Checks the broadcast level and publishes (encoded once, by the publisher, for every recipient on every instance). */
  private async sendTo(target: NormalizedTarget, events: SseEvent<unknown> | readonly SseEvent<unknown>[], startedAt: number): Promise<number> {
    this.assertBroadcastAllowed(target);
    return this.publisher.send(target, events, startedAt);
  }

  /**
   * Stops a resumable stream (README, "Streaming an answer"): its handler's
   * `ctx.signal` is aborted, and its client and every follower get `sse.close`
   * `{"reason":"stopped"}`; later follows within its `ttl` get what was
   * recorded, then `stopped`. Resolves true when a running stream was found,
   * false when it is unknown or has already ended.
   */
  async stopStream(name: string, streamId: string): Promise<boolean> {
    return this.streams.stop(assertIdentifier('name', name), assertIdentifier('stream id', streamId));
  }

  /** Counters of this instance: connections per name, events, bytes, drops, replays, gaps, errors (the metrics read the same). */
  stats(): SseStats {
    const connectionsByName: Record<string, number> = {};
    for (const name of this.registry.names()) connectionsByName[name] = this.registry.countOf(name);
    return { connections: this.registry.open.size, connectionsByName, ...this.counters.snapshot() };
  }

  /**
   * Closes every connection the target addresses (each gets `sse.close`);
   * resolves with how many. With `{ reconnect: false }` they are stopped for
   * good (see `SseCloseOptions`): so are the client ids the target names,
   * connected or not, from the moment this resolves.
   */
  async close(target: SseTarget, options?: SseCloseOptions): Promise<number> {
    const normalized = normalizeTarget(target);
    const reconnect = mayReconnect(options);
    if (!reconnect && normalized.clientIds) {
      const marks = normalized.names.flatMap((name) => normalized.clientIds!.map((id) => this.stops.stopClient(name, id)));
      await Promise.all(marks);
    }
    return this.transport.close(normalized, { reconnect });
  }

  /**
   * Adds every connection the target addresses, on every instance, to one
   * group or several: sends to them reach those connections from the moment
   * this resolves (with how many connections gained a group). Live
   * connections only: a reconnect gets its route's `group` again, so record a
   * join where that callback reads if it must outlive the connection.
   */
  async join(target: SseTarget, groups: string | readonly string[], options: SseJoinOptions = {}): Promise<number> {
    const normalized = normalizeTarget(target);
    const replay = options.replay === undefined ? 0 : assertIntegerAtLeast('join replay', options.replay, 0);
    return this.transport.join(normalized, identifierList('group', groups) ?? [], { replay });
  }

  /** Takes every connection the target addresses out of groups; resolves with how many lost one. */
  async leave(target: SseTarget, groups: string | readonly string[]): Promise<number> {
    return this.transport.leave(normalizeTarget(target), identifierList('group', groups) ?? []);
  }

  /** Names with at least one open global connection. */
  async names(): Promise<string[]> {
    return this.transport.names();
  }

  /** Groups with at least one open connection under `name` (ungrouped connections add nothing). */
  async groups(name: string): Promise<string[]> {
    return this.transport.groups(assertIdentifier('name', name));
  }

  /** Client ids of the connections the target addresses. */
  async clientIds(target: SseTarget): Promise<string[]> {
    return this.transport.clientIds(normalizeTarget(target));
  }

  /** True while at least one global connection is open under `name`. */
  async hasName(name: string): Promise<boolean> {
    const wanted = assertIdentifier('name', name);
    return (await this.transport.names()).includes(wanted);
  }

  /**
   * True when a connection the target addresses is open: one with its client
   * id, or any of its user's (the target must name a client id or a user).
   */
  async exists(target: SseTarget): Promise<boolean> {
    const normalized = normalizeTarget(target);
    if (!normalized.clientIds && !normalized.users) throw new SseInvalidArgumentError(SseMessages.existsNeedsClientId());
    return (await this.transport.count(normalized)) > 0;
  }

  /** How many global connections the target addresses; all of them without a target. */
  async count(target?: SseTarget): Promise<number> {
    return this.transport.count(target === undefined ? undefined : normalizeTarget(target));
  }

  /**
   * A new client id: 128 random bits, or `id` when given; signed when signing
   * is enabled (with `strict`, pass the user agent and address it is bound to).
   */
  newClientId(id?: string, binding?: SseClientBinding): string {
    return this.ids.issue(id, binding);
  }

  /** True when the id has the signed form `s:<id>.<signature>` (not that the signature is right). */
  isClientIdSigned(id: string): boolean {
    return this.ids.isSigned(id);
  }

  /** True when the id is acceptable: any id without signing; a correctly signed one with it. */
  isClientIdValid(id: string, binding?: SseClientBinding): boolean {
    return this.ids.isValid(id, binding);
  }

  /** Sets the broadcast level of a name, or of every name without its own (`'*'`). */
  setBroadcastLevel(name: string, level: SseBroadcastLevel): void {
    this.settings.broadcastLevels.set(name === '*' ? name : assertIdentifier('name', name), assertBroadcastLevel(level));
  }

  /** The level in force for `name`: its own, else `'*'`'s, else `'name'`. */
  getBroadcastLevel(name: string): SseBroadcastLevel {
    return this.levelOf(name === '*' ? name : assertIdentifier('name', name));
  }

  private levelOf(name: string): SseBroadcastLevel {
    const levels = this.settings.broadcastLevels;
    return levels.get(name) ?? levels.get('*') ?? 'name';
  }

  /** True when a send to this target is allowed by the broadcast level of every name in it. */
  testBroadcastLevel(target: SseTarget): boolean {
    return this.violatedLevel(normalizeTarget(target)) === undefined;
  }

  private assertBroadcastAllowed(target: NormalizedTarget): void {
    const violation = this.violatedLevel(target);
    if (violation) {
      throw new SseBroadcastLevelError(
        SseMessages.broadcastLevelViolated(violation.name, violation.level),
        violation.name,
        violation.level,
      );
    }
  }

  private violatedLevel(target: NormalizedTarget): { name: string; level: SseBroadcastLevel } | undefined {
    for (const name of target.names) {
      const level = this.levelOf(name);
      const allowed =
        level === 'name' ||
        // A user is one principal, like a client id.
        target.clientIds !== undefined ||
        target.users !== undefined ||
        (level === 'group' && target.groups !== undefined);
      if (!allowed) return { name, level };
    }
    return undefined;
  }
}
