import { Injectable } from '@nestjs/common';
import { SseSettings } from '../config/sse-settings.js';
import { SseMessages } from '../sse.messages.js';

/** Why a connection cannot be accepted: a full instance or name (retry later), or a user at its limit. */
export interface SseRefusal {
  readonly reason: 'instance' | 'name' | 'user';
  readonly message: string;
}

/**
 * Counts this instance's connections (pending and open, both scopes) against
 * `maxConnections`, `maxConnectionsPerName` and `maxConnectionsPerUser`
 * (connections without a user do not count there). A slot is taken when a
 * request becomes a connection and given back the moment it closes, however
 * it closes.
 */
@Injectable()
export class SseConnectionLimits {
  private total = 0;
  private readonly perName = new Map<string, number>();
  private readonly perUser = new Map<string, number>();

  constructor(private readonly settings: SseSettings) {}

  /** Why a new connection under `name` (of `user`) cannot be accepted now, or undefined when it can. */
  refusal(name: string, user: string | undefined): SseRefusal | undefined {
    const { maxConnections, maxConnectionsPerName, maxConnectionsPerUser } = this.settings;
    if (maxConnections !== undefined && this.total >= maxConnections) {
      return { reason: 'instance', message: SseMessages.tooManyConnections('this server', maxConnections) };
    }
    if (maxConnectionsPerName !== undefined && (this.perName.get(name) ?? 0) >= maxConnectionsPerName) {
      return { reason: 'name', message: SseMessages.tooManyConnections(`name ${JSON.stringify(name)}`, maxConnectionsPerName) };
    }
    if (user !== undefined && maxConnectionsPerUser !== undefined && (this.perUser.get(user) ?? 0) >= maxConnectionsPerUser) {
      return { reason: 'user', message: SseMessages.tooManyConnectionsOfUser(maxConnectionsPerUser) };
    }
    return undefined;
  }

  /** Takes a slot under `name` (and `user`); the returned function gives it back (once, however often it is called). */
  reserve(name: string, user: string | undefined): () => void {
    this.total++;
    take(this.perName, name);
    if (user !== undefined) take(this.perUser, user);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      give(this.perName, name);
      if (user !== undefined) give(this.perUser, user);
    };
  }

  /** Connections counted now (pending and open). */
  get size(): number {
    return this.total;
  }
}

const take = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

// Dropped at zero so that names and users that come and go leave nothing behind.
const give = (counts: Map<string, number>, key: string) => {
  const left = (counts.get(key) ?? 1) - 1;
  if (left === 0) counts.delete(key);
  else counts.set(key, left);
};
