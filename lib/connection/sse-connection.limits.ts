import { Injectable } from '@nestjs/common';
import { SseSettings } from '../config/sse-settings.js';
import { SseMessages } from '../sse.messages.js';

/**
 * Counts this instance's connections (pending and open, both scopes) against
 * `maxConnections` and `maxConnectionsPerName`. A slot is taken when a request
 * becomes a connection and given back the moment it closes, however it closes.
 */
@Injectable()
export class SseConnectionLimits {
  private total = 0;
  private readonly perName = new Map<string, number>();

  constructor(private readonly settings: SseSettings) {}

  /** Why a new connection under `name` cannot be accepted now, or undefined when it can. */
  refusal(name: string): string | undefined {
    const { maxConnections, maxConnectionsPerName } = this.settings;
    if (maxConnections !== undefined && this.total >= maxConnections) {
      return SseMessages.tooManyConnections('this server', maxConnections);
    }
    if (maxConnectionsPerName !== undefined && (this.perName.get(name) ?? 0) >= maxConnectionsPerName) {
      return SseMessages.tooManyConnections(`name ${JSON.stringify(name)}`, maxConnectionsPerName);
    }
    return undefined;
  }

  /** Takes a slot under `name`; the returned function gives it back (once, however often it is called). */
  reserve(name: string): () => void {
    this.total++;
    this.perName.set(name, (this.perName.get(name) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perName.get(name) ?? 1) - 1;
      // Dropped at zero so that names that come and go leave nothing behind.
      if (left === 0) this.perName.delete(name);
      else this.perName.set(name, left);
    };
  }

  /** Connections counted now (pending and open). */
  get size(): number {
    return this.total;
  }
}
