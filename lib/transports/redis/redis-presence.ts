import { PRESENCE } from './redis.scripts.js';
import { RedisBatcher } from './redis-batcher.js';
import { RedisNameKeys } from './redis-keys.js';
import type { RedisLink } from './redis-link.js';
import type { SseTransportConnection } from '../../interfaces/sse-transport.interface.js';

/** A presence change of one connection, as the PRESENCE script takes it. */
type PresenceOp =
  | { kind: 'claim' | 'renew'; connection: SseTransportConnection; token: string; details: string }
  | { kind: 'drop'; connection: SseTransportConnection; token: string }
  | { kind: 'regroup'; connection: SseTransportConnection; token: string };

/** What this instance knows of one of its connections: its claim token, once Redis gave it. */
interface Registration {
  token: string | undefined;
  /** What a remote `@SseContext()` learns of it: `<connected at ms>SEP<'=' last event id, or ''>`. */
  readonly details: string;
  closed: boolean;
  /** A claim is on its way: a renewal must not claim again (a second claim would replace the first). */
  claiming: boolean;
}

const HEARTBEAT_BATCH = 500;
const groupsArg = (connection: SseTransportConnection) => connection.groups.join('\x1e');
// Tokens are unique per name and client id only.
const tokenKey = (name: string, clientId: string, token: string) => `${name}\x1f${clientId}\x1f${token}`;

/**
 * This instance's connections as Redis knows them, per name (its presence
 * sets live on the name's shard): claims (the order of claims is Redis's),
 * renewals before the presence TTL runs out, withdrawals, group changes, and
 * the end of a connection whose claim a later one took (`replaced`). Changes
 * of one event-loop turn go in one script call per name.
 */
export class RedisPresence {
  private readonly registrations = new Map<SseTransportConnection, Registration>();
  private readonly byToken = new Map<string, SseTransportConnection>();
  /** Claims replaced before their own answer arrived (the answer is still on its way). */
  private readonly replacedEarly = new Set<string>();
  /** Group changes on their way to Redis (a cluster-wide join answers once they are there). */
  private readonly regroups = new Set<Promise<unknown>>();
  private readonly batcher: RedisBatcher<PresenceOp>;

  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
    private readonly instanceId: string,
    private readonly ttl: number,
    /** Runs background work: never throws, awaited on shutdown. */
    private readonly background: (work: Promise<unknown>) => void,
    batching: boolean,
    /** Told when a claim went through (the instance's summary then follows its presence). */
    private readonly claimed: () => void = () => undefined,
  ) {
    this.batcher = new RedisBatcher((name, ops) => this.flush(name, ops), batching);
  }

  /** Claims a connection that just opened (a later claim of its client id anywhere wins). */
  register(connection: SseTransportConnection): void {
    const lastEventId = connection.lastEventId === undefined ? '' : `=${connection.lastEventId}`;
    const registration: Registration = { token: undefined, details: `${connection.connectedAt.getTime()}\x1f${lastEventId}`, closed: false, claiming: false };
    this.registrations.set(connection, registration);
    this.claim(connection, registration);
  }

  /** Withdraws a connection that closed. */
  unregister(connection: SseTransportConnection): void {
    const registration = this.registrations.get(connection);
    if (!registration) return;
    this.registrations.delete(connection);
    registration.closed = true;
    if (registration.token === undefined) return; // withdrawn once its claim answers
    this.byToken.delete(tokenKey(connection.name, connection.clientId, registration.token));
    this.background(this.batcher.add(connection.name, { kind: 'drop', connection, token: registration.token }));
  }

  /** Tells Redis a connection's groups changed; resolves once it knows (a claim still on its way carries them itself). */
  update(connection: SseTransportConnection): Promise<void> {
    const registration = this.registrations.get(connection);
    if (!registration || registration.token === undefined) return Promise.resolve();
    const sent = this.batcher.add(connection.name, { kind: 'regroup', connection, token: registration.token }).then(() => undefined);
    const tracked = sent.catch(() => undefined);
    this.regroups.add(tracked);
    void tracked.finally(() => this.regroups.delete(tracked));
    return sent;
  }

  /** Resolves once every group change sent so far has reached Redis (or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.regroups]);
  }

  /** A later claim took `token` (heard on the name's channel). */
  replaced(name: string, clientId: string, token: string): void {
    if (!token.startsWith(`${this.instanceId}:`)) return;
    const key = tokenKey(name, clientId, token);
    const connection = this.byToken.get(key);
    if (connection) {
      this.byToken.delete(key);
      connection.end('replaced');
    } else if (this.replacedEarly.size < 10_000) {
      this.replacedEarly.add(key);
    }
  }

  /** Renews every connection's presence (after a reconnect too: a Redis restarted empty learns them again). */
  renew(): void {
    for (const [connection, registration] of this.registrations) {
      if (registration.token === undefined) {
        // Unanswered so far: claimed again only once that claim failed (Redis away), never beside it.
        if (!registration.claiming) this.claim(connection, registration);
      } else {
        const renewal = this.batcher.add<[string, string]>(connection.name, { kind: 'renew', connection, token: registration.token, details: registration.details });
        this.background(renewal.then(([status]) => status === 'lost' && !registration.closed && connection.end('replaced')));
      }
    }
  }

  /** How many connections this instance has, and under which names (for cluster-wide `count()` and `names()`). */
  summary(): { count: number; names: string[] } {
    const names = new Set<string>();
    for (const connection of this.registrations.keys()) names.add(connection.name);
    return { count: this.registrations.size, names: [...names] };
  }

  private claim(connection: SseTransportConnection, registration: Registration): void {
    const { name, clientId } = connection;
    const groups = groupsArg(connection);
    registration.claiming = true;
    const claimed = this.batcher
      .add<[string, string]>(name, { kind: 'claim', connection, token: registration.token ?? '', details: registration.details })
      .then(([status, token]) => {
        if (status === 'lost') {
          if (!registration.closed) connection.end('replaced');
          return;
        }
        registration.token = token;
        if (registration.closed) {
          this.background(this.batcher.add(name, { kind: 'drop', connection, token }));
        } else if (this.replacedEarly.delete(tokenKey(name, clientId, token))) {
          connection.end('replaced');
        } else {
          this.byToken.set(tokenKey(name, clientId, token), connection);
          this.claimed();
          // Groups that changed while the claim was on its way.
          if (groupsArg(connection) !== groups) void this.update(connection).catch(() => undefined);
        }
      });
    // A claim that failed (Redis away) is sent again by the next renewal.
    this.background(claimed.finally(() => (registration.claiming = false)));
  }

  /** One name's presence changes in one script call. */
  private async flush(name: string, ops: readonly PresenceOp[]): Promise<readonly unknown[]> {
    const keys = new RedisNameKeys(this.prefix, name);
    const declared = new Set([keys.claims, keys.connections, keys.groups]);
    const answers: unknown[] = [];
    for (let start = 0; start < ops.length; start += HEARTBEAT_BATCH) {
      const args: Array<string | number> = [keys.base, this.instanceId, this.ttl, 0];
      let count = 0;
      for (const op of ops.slice(start, start + HEARTBEAT_BATCH)) {
        const { connection } = op;
        for (const group of connection.groups) declared.add(keys.members('g', group));
        if (connection.user !== undefined) declared.add(keys.members('u', connection.user));
        if (op.kind === 'claim' || op.kind === 'renew') {
          args.push(op.kind, connection.clientId, connection.user ?? '', groupsArg(connection), op.token, op.details);
        } else if (op.kind === 'drop') {
          args.push('drop', connection.clientId, op.token);
        } else {
          args.push('regroup', connection.clientId, op.token, groupsArg(connection));
        }
        count++;
      }
      args[3] = count;
      answers.push(...((await this.link.run(PRESENCE, [...declared], args)) as unknown[]));
    }
    return answers;
  }
}
