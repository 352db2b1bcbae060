import { SseConnectionClosedError } from '../errors/sse-connection-closed.error.js';
import { SseMessages } from '../sse.messages.js';
import { identifierList } from '../addressing/sse-target.js';
import { mayReconnect } from '../config/value-checks.js';
import type { SsePublisher } from '../delivery/sse-publisher.js';
import type { SseContext } from '../interfaces/sse-context.interface.js';
import type { SseCloseOptions, SseEvent, SseJoinOptions } from '../interfaces/sse-event.interface.js';
import type { SseTransport, SseTransportPeer, SseTransportTarget } from '../interfaces/sse-transport.interface.js';

/**
 * `@SseContext()` for a connection that lives on another instance (found
 * through the transport): it sends and closes through the cluster, exactly as
 * `SseHub` would with the connection's name and client id.
 */
export class SseRemoteContext implements SseContext {
  readonly scope = 'global' as const;
  readonly groups: readonly string[];
  readonly user: string | undefined;
  readonly connectedAt: Date;
  readonly lastEventId: string | undefined;
  /** Never aborted: the connection's own instance runs its handler. */
  readonly signal: AbortSignal = new AbortController().signal;
  private readonly target: SseTransportTarget;

  constructor(
    readonly name: string,
    readonly clientId: string,
    peer: SseTransportPeer,
    private readonly publisher: SsePublisher,
    private readonly transport: SseTransport,
  ) {
    this.groups = peer.groups;
    this.user = peer.user;
    this.connectedAt = peer.connectedAt;
    this.lastEventId = peer.lastEventId;
    this.target = { names: [name], clientIds: [clientId] };
  }

  /** {@inheritDoc SseContext.send} */
  async send(event: SseEvent<unknown> | readonly SseEvent<unknown>[]): Promise<void> {
    const delivered = await this.publisher.send(this.target, event);
    // Recorded for its client id all the same: it replays them if it reconnects in time.
    if (delivered === 0) throw new SseConnectionClosedError(SseMessages.connectionClosed(this.name, this.clientId));
  }

  /** Its first group, as it was when the request found it. */
  get group(): string | undefined {
    return this.groups[0];
  }

  /** {@inheritDoc SseContext.close} */
  async close(options?: SseCloseOptions): Promise<void> {
    await this.transport.close(this.target, { reconnect: mayReconnect(options) });
  }

  /** {@inheritDoc SseContext.join} */
  async join(groups: string | readonly string[], options: SseJoinOptions = {}): Promise<void> {
    await this.transport.join(this.target, identifierList('group', groups) ?? [], options);
  }

  /** {@inheritDoc SseContext.leave} */
  async leave(groups: string | readonly string[]): Promise<void> {
    await this.transport.leave(this.target, identifierList('group', groups) ?? []);
  }
}
