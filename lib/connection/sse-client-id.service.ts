import { Injectable } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SseSettings } from '../config/sse-settings.js';
import { assertIdentifier, isValidIdentifier } from '../addressing/identifiers.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseMessages } from '../sse.messages.js';

/** What a strict signature is bound to: the client's user agent and address. */
export interface SseClientBinding {
  userAgent?: string;
  remoteAddress?: string;
}

const SIGNED_PREFIX = 's:';

/**
 * Issues and verifies client ids. Ids are 128 bits from the CSPRNG; with signing
 * they become `s:<id>.<base64url HMAC-SHA256>`, verified in constant time.
 */
@Injectable()
export class SseClientIds {
  constructor(private readonly settings: SseSettings) {}

  /** A new random id, or `id` checked; signed when signing is enabled (an already signed id must verify). */
  issue(id: string | undefined, binding: SseClientBinding = {}): string {
    const raw = id === undefined ? randomBytes(16).toString('base64url') : assertIdentifier('client id', id);
    if (!this.settings.signing) return raw;
    if (this.isSigned(raw)) {
      if (!this.verify(raw, binding)) throw new SseInvalidArgumentError(SseMessages.forgedClientId());
      return raw;
    }
    return this.sign(raw, binding);
  }

  /** True when the id has the signed form `s:<id>.<signature>` (says nothing of its validity). */
  isSigned(id: string): boolean {
    return typeof id === 'string' && id.startsWith(SIGNED_PREFIX) && id.lastIndexOf('.') > SIGNED_PREFIX.length;
  }

  /**
   * True when the id may be used: without signing, any well-formed id; with
   * signing, only a signed id whose signature matches (and, when strict, the binding).
   */
  isValid(id: string, binding: SseClientBinding = {}): boolean {
    // An id that could never be used (empty, too long, control characters) is never valid.
    if (!isValidIdentifier(id)) return false;
    if (!this.settings.signing) return true;
    return this.isSigned(id) && this.verify(id, binding);
  }

  private sign(id: string, binding: SseClientBinding): string {
    const signed = `${SIGNED_PREFIX}${id}.${this.signature(id, binding)}`;
    return assertIdentifier('signed client id', signed);
  }

  private verify(signedId: string, binding: SseClientBinding): boolean {
    const dot = signedId.lastIndexOf('.');
    const id = signedId.slice(SIGNED_PREFIX.length, dot);
    const given = Buffer.from(signedId.slice(dot + 1));
    const expected = Buffer.from(this.signature(id, binding));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private signature(id: string, binding: SseClientBinding): string {
    const { secret, strict } = this.settings.signing!;
    // NUL separators: none of the parts can contain one, so no two inputs collide.
    const payload = strict ? `${id}\0${binding.userAgent ?? ''}\0${binding.remoteAddress ?? ''}` : id;
    return createHmac('sha256', secret).update(payload).digest('base64url');
  }
}
