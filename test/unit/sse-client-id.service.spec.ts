import { createHmac } from 'node:crypto';
import { SseClientIds } from '../../lib/connection/sse-client-id.service.js';
import { SseSettings } from '../../lib/config/sse-settings.js';
import { SseInvalidArgumentError } from '../../lib/errors/sse-invalid-argument.error.js';
import type { SseModuleOptions } from '../../lib/interfaces/sse-module-options.interface.js';

const SECRET = 'unit-test-secret-0123456789';
const idsWith = (options: SseModuleOptions) => new SseClientIds(new SseSettings(options));
const hmac = (payload: string, secret = SECRET) => createHmac('sha256', secret).update(payload).digest('base64url');

describe('SseClientIds without signing', () => {
  const ids = idsWith({});

  it('issues 128-bit random base64url ids, all different', () => {
    const issued = Array.from({ length: 200 }, () => ids.issue(undefined));
    expect(new Set(issued).size).toBe(200);
    for (const id of issued) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });

  it('returns a given id as is, after checking it', () => {
    expect(ids.issue('user-1')).toBe('user-1');
    expect(() => ids.issue('')).toThrow(SseInvalidArgumentError);
    expect(() => ids.issue('a\nb')).toThrow(SseInvalidArgumentError);
  });

  it('accepts any well-formed id as valid, nothing else', () => {
    expect(ids.isValid('anything')).toBe(true);
    expect(ids.isValid('s:fake.signature')).toBe(true);
    expect(ids.isValid('')).toBe(false);
    expect(ids.isValid('x'.repeat(257))).toBe(false);
    expect(ids.isValid(42 as unknown as string)).toBe(false);
  });
});

describe('SseClientIds with signing', () => {
  const ids = idsWith({ signing: { secret: SECRET } });

  it('signs as s:<id>.<base64url HMAC-SHA256 of the id>', () => {
    expect(ids.issue('alice')).toBe(`s:alice.${hmac('alice')}`);
    const random = ids.issue(undefined);
    const [, raw] = /^s:([A-Za-z0-9_-]{22})\./.exec(random)!;
    expect(random).toBe(`s:${raw}.${hmac(raw)}`);
  });

  it('accepts an already signed id only when its signature verifies', () => {
    const signed = ids.issue('bob');
    expect(ids.issue(signed)).toBe(signed);
    expect(() => ids.issue(`s:bob.${hmac('bob', 'another-secret-of-length')}`)).toThrow(/signature is not valid/);
  });

  it('isSigned looks at the form only', () => {
    expect(ids.isSigned('s:a.b')).toBe(true);
    expect(ids.isSigned('s:a.b.c')).toBe(true);
    expect(ids.isSigned('s:.b')).toBe(false);
    expect(ids.isSigned('s:ab')).toBe(false);
    expect(ids.isSigned('a.b')).toBe(false);
    expect(ids.isSigned(42 as unknown as string)).toBe(false);
    expect(ids.isValid(undefined as unknown as string)).toBe(false);
  });

  it('isValid needs a signature that verifies', () => {
    expect(ids.isValid(ids.issue('carol'))).toBe(true);
    expect(ids.isValid('carol')).toBe(false);
    expect(ids.isValid(`s:carol.${hmac('dave')}`)).toBe(false);
    expect(ids.isValid(`s:carol.${hmac('carol').slice(1)}`)).toBe(false);
    expect(ids.isValid(`s:carol.${hmac('carol')}x`)).toBe(false);
    // An id with dots signs and verifies on its last dot.
    expect(ids.isValid(ids.issue('a.b.c'))).toBe(true);
  });

  it('another secret does not verify', () => {
    const other = idsWith({ signing: { secret: 'a-completely-different-secret' } });
    expect(other.isValid(ids.issue('erin'))).toBe(false);
  });
});

describe('SseClientIds with strict signing', () => {
  const ids = idsWith({ signing: { secret: SECRET, strict: true } });
  const binding = { userAgent: 'agent-A', remoteAddress: '127.0.0.1' };

  it('binds the signature to user agent and address', () => {
    const id = ids.issue('frank', binding);
    expect(id).toBe(`s:frank.${hmac('frank\u0000agent-A\u0000127.0.0.1')}`);
    expect(ids.isValid(id, binding)).toBe(true);
    expect(ids.isValid(id, { ...binding, userAgent: 'agent-B' })).toBe(false);
    expect(ids.isValid(id, { ...binding, remoteAddress: '127.0.0.2' })).toBe(false);
    expect(ids.isValid(id, {})).toBe(false);
  });
});

describe('SseSettings', () => {
  it('applies the defaults', () => {
    const settings = new SseSettings(undefined);
    expect(settings).toMatchObject({ defaultScope: 'global', retry: undefined, keepAliveMs: 15000, signing: undefined });
    expect(settings.broadcastLevels.size).toBe(0);
  });

  it('keeps valid options', () => {
    const settings = new SseSettings({
      defaultScope: 'local',
      retry: 0,
      keepAlive: 0,
      signing: { secret: SECRET },
      broadcastLevels: { '*': 'group', events: 'clientId' },
    });
    expect(settings).toMatchObject({ defaultScope: 'local', retry: 0, keepAliveMs: 0, signing: { secret: SECRET, strict: false } });
    expect([...settings.broadcastLevels]).toEqual([
      ['*', 'group'],
      ['events', 'clientId'],
    ]);
  });

  it.each<[string, unknown]>([
    ['options that are not an object', 'fast'],
    ['a bad retry', { retry: -1 }],
    ['a bad keepAlive', { keepAlive: 0.5 }],
    ['a bad scope', { defaultScope: 'all' }],
    ['a short secret', { signing: { secret: '123' } }],
    ['a non-string secret', { signing: { secret: 12345678901234567890 } }],
    ['broadcastLevels as a string', { broadcastLevels: 'name' }],
    ['broadcastLevels as null', { broadcastLevels: null }],
    ['a bad level', { broadcastLevels: { a: 'b' } }],
  ])('refuses %s with SseInvalidArgumentError', (_label, options) => {
    expect(() => new SseSettings(options as SseModuleOptions)).toThrow(SseInvalidArgumentError);
  });
});
