import { Inject, Injectable } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SseSettings } from '../config/sse-settings.js';
import { MAX_STOPPED_ENTRIES, STOP_TOKEN_PREFIX } from '../sse.constants.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import { ExpiringKeys } from '../utils/expiring-keys.js';
import type { SseTransport } from '../interfaces/sse-transport.interface.js';

// What a stopped key is, in the transport's store: a stop token or a client id.
const TOKEN = 't:';
const CLIENT = 'c:';
// Keeps the stop tokens' MACs apart from the client ids' signatures made with the same secret.
const KEY_CONTEXT = 'nestjs-sse-hub stop token';

/**
 * Stopping for good (`close(target, { reconnect: false })`). The final
 * `sse.close` carries a stop token as its `id:`, `sse-stop:<expiry>.<MAC of
 * name and expiry>`: a browser's EventSource offers it as `Last-Event-ID` when
 * it reconnects, and is answered `204` (it then stops, HTML §9.2.3). The
 * client ids stopped are remembered too (for `history.ttl`), so that a
 * reconnect offering one is answered `204` as well.
 *
 * Tokens are signed with the module's `signing.secret` when set, so every
 * instance verifies them alone; without it, with a key of this process, and
 * the token is also remembered through the transport for the other instances.
 */
@Injectable()
export class SseStopTokens {
  private readonly key: Buffer;
  private readonly signed: boolean;
  private readonly ttl: number;
  /** Where stops are remembered when the transport keeps none (this instance only). */
  private readonly local = new ExpiringKeys(MAX_STOPPED_ENTRIES);

  constructor(
    settings: SseSettings,
    @Inject(SSE_TRANSPORT) private readonly transport: SseTransport,
  ) {
    this.signed = settings.signing !== undefined;
    const secret = settings.signing?.secret ?? randomBytes(32);
    this.key = createHmac('sha256', secret).update(KEY_CONTEXT).digest();
    this.ttl = settings.history.ttl;
  }

  /** True when a `Last-Event-ID` has the stop token's form (one comparison: checked before anything else). */
  static looksLikeToken(lastEventId: string): boolean {
    return lastEventId.startsWith(STOP_TOKEN_PREFIX);
  }

  /** A new stop token for connections of `name`, valid for `history.ttl`. */
  issue(name: string): string {
    const expires = (Date.now() + this.ttl).toString(36);
    const token = `${STOP_TOKEN_PREFIX}${expires}.${this.mac(name, expires)}`;
    // Only this process can verify an unsigned token: the other instances learn it through the transport.
    if (!this.signed) void this.mark(name, TOKEN + token);
    return token;
  }

  /** Remembers that `clientId` of `name` was stopped for good; resolves once the transport holds it. */
  stopClient(name: string, clientId: string): Promise<void> {
    return this.mark(name, CLIENT + clientId);
  }

  /** True when `token` is a stop token of `name` that has not expired. */
  async isValidToken(name: string, token: string): Promise<boolean> {
    if (!SseStopTokens.looksLikeToken(token)) return false;
    if (this.verify(name, token)) return true;
    return !this.signed && this.isMarked(name, TOKEN + token);
  }

  /** True when `clientId` of `name` was stopped for good less than `history.ttl` ago. */
  isStoppedClient(name: string, clientId: string): Promise<boolean> {
    return this.isMarked(name, CLIENT + clientId);
  }

  private verify(name: string, token: string): boolean {
    const dot = token.indexOf('.', STOP_TOKEN_PREFIX.length);
    if (dot < 0) return false;
    const expires = token.slice(STOP_TOKEN_PREFIX.length, dot);
    if (!(parseInt(expires, 36) > Date.now())) return false;
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(name, expires));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(name: string, expires: string): string {
    // NUL separates: a name cannot contain one.
    return createHmac('sha256', this.key).update(`${name}\0${expires}`).digest('base64url');
  }

  private async mark(name: string, key: string): Promise<void> {
    if (this.transport.markStopped) return this.transport.markStopped(name, key, this.ttl).catch(() => undefined);
    this.local.add(`${name}\0${key}`, this.ttl);
  }

  private async isMarked(name: string, key: string): Promise<boolean> {
    if (this.transport.isStopped) return this.transport.isStopped(name, key).catch(() => false);
    return this.local.has(`${name}\0${key}`);
  }
}
