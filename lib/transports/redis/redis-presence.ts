import { HEARTBEAT, REGISTER, REGROUP, UNREGISTER, type LuaScript } from './redis.scripts.js';
import type { SseTransportConnection } from '../../interfaces/sse-transport.interface.js';

/** What the presence bookkeeping needs from the transport. */
export interface RedisScriptRunner {
  /** Runs a script (key prefix first); rejects with `SseTransportError`. */
  run(script: LuaScript, args: Array<string | number | Buffer>): Promise<unknown>;
  /** Runs work in the background: never throws, awaited on shutdown. */
  background(work: Promise<unknown>): void;
}

/** What this instance knows of one of its connections: its claim token, once Redis gave it. */
interface Registration {
  token: string | undefined;
  /** What a remote `@SseContext()` learns of it: `<connected at ms>SEP<'=' last event id, or ''>`. */
  details: string;
  /** A claim is on its way: never send a second one (it would replace the first). */
  claiming: boolean;
  closed: boolean;
}

const HEARTBEAT_BATCH = 500;
// Joins a connection's groups for the scripts (no identifier may contain it).
const groupsArg = (connection: SseTransportConnection) => connection.groups.join('\x1e');
// Tokens are unique per claim hash field only (the counter restarts with an empty Redis).
const tokenKey = (name: string, clientId: string, token: string) => `${name}\x1f${clientId}\x1f${token}`;

/**
 * This instance's connections as Redis knows them: each claim's token (the
 * order of claims is Redis's counter), renewal before the presence TTL runs
 * out, withdrawal on close, and the end of a connection whose claim a later
 * one took (`sse.close` reason `replaced`).
 */
export class RedisPresence {
  private readonly registrations = new Map<SseTransportConnection, Registration>();
  private readonly byToken = new Map<string, SseTransportConnection>();
  /** Claims replaced before their own answer arrived (the answer is still on its way). */
  private readonly replacedEarly = new Set<string>();
  /** Group changes on their way to Redis (a cluster join answers once they are there). */
  private readonly regroups = new Set<Promise<void>>();

  constructor(
    private readonly redis: RedisScriptRunner,
    private readonly instanceId: string,
    private readonly ttl: number,
    private readonly streamLength: number,
  ) {}

  register(connection: SseTransportConnection): void {
    const lastEventId = connection.lastEventId === undefined ? '' : `=${connection.lastEventId}`;
    const details = `${connection.connectedAt.getTime()}\x1f${lastEventId}`;
    const registration: Registration = { token: undefined, details, claiming: false, closed: false };
    this.registrations.set(connection, registration);
    this.claim(connection, registration);
  }

  unregister(connection: SseTransportConnection): void {
    const registration = this.registrations.get(connection);
    if (!registration) return;
    this.registrations.delete(connection);
    registration.closed = true;
    if (registration.token === undefined) return; // withdrawn once its claim answers
    this.byToken.delete(tokenKey(connection.name, connection.clientId, registration.token));
    this.withdraw(connection, registration.token);
  }

  /** A later claim took `token` (a replacement entry of the event stream). */
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

  /**
   * Tells Redis a connection's groups changed; resolves once it knows (a claim
   * still on its way carries them itself). Rejects with `SseTransportError`.
   */
  update(connection: SseTransportConnection): Promise<void> {
    const registration = this.registrations.get(connection);
    if (!registration || registration.token === undefined) return Promise.resolve();
    const groups = groupsArg(connection);
    const sent = this.redis.run(REGROUP, [this.ttl, connection.name, connection.clientId, registration.token, groups]).then(() => undefined);
    const tracked = sent.catch(() => undefined);
    this.regroups.add(tracked);
    void tracked.finally(() => this.regroups.delete(tracked));
    return sent;
  }

  /** Resolves once every group change sent so far has reached Redis (or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.regroups]);
  }

  /** Renews this instance's presence (after a reconnect too: a Redis restarted empty learns every connection again). */
  renew(): void {
    const announced: Array<[SseTransportConnection, Registration]> = [];
    for (const entry of this.registrations) {
      if (entry[1].token !== undefined) announced.push(entry);
      else if (!entry[1].claiming) this.claim(entry[0], entry[1]);
    }
    const work = async () => {
      // Batch 0 always runs: it renews the instance itself (who answers closes).
      for (let start = 0; start === 0 || start < announced.length; start += HEARTBEAT_BATCH) {
        const batch = announced.slice(start, start + HEARTBEAT_BATCH);
        const args: Array<string | number> = [this.instanceId, this.ttl];
        for (const [connection, registration] of batch) {
          args.push(connection.name, connection.clientId, connection.user ?? '', groupsArg(connection), registration.token!, registration.details);
        }
        const lost = (await this.redis.run(HEARTBEAT, args)) as number[];
        for (const position of lost) {
          const [connection, registration] = batch[position - 1];
          if (!registration.closed) connection.end('replaced');
        }
      }
    };
    this.redis.background(work());
  }

  private claim(connection: SseTransportConnection, registration: Registration): void {
    const { name, clientId } = connection;
    registration.claiming = true;
    const groups = groupsArg(connection);
    const args = [this.instanceId, this.ttl, name, clientId, connection.user ?? '', groups, registration.token ?? '', this.streamLength, registration.details];
    const claimed = this.redis.run(REGISTER, args).then((answer) => {
      const [status, token] = answer as [string, string];
      if (status === 'lost') {
        if (!registration.closed) connection.end('replaced');
        return;
      }
      registration.token = token;
      if (registration.closed) {
        this.withdraw(connection, token);
      } else if (this.replacedEarly.delete(tokenKey(name, clientId, token))) {
        connection.end('replaced');
      } else {
        this.byToken.set(tokenKey(name, clientId, token), connection);
        // Groups that changed while the claim was on its way.
        if (groupsArg(connection) !== groups) void this.update(connection).catch(() => undefined);
      }
    });
    // A claim that failed (Redis away) is sent again by the next renewal.
    this.redis.background(claimed.finally(() => (registration.claiming = false)));
  }

  private withdraw(connection: SseTransportConnection, token: string): void {
    this.redis.background(this.redis.run(UNREGISTER, [connection.name, connection.clientId, token]));
  }
}
