import { SseSettings } from '../../lib/config/sse-settings.js';
import { SseConnectionLimits } from '../../lib/connection/sse-connection.limits.js';
import type { SseModuleOptions } from '../../lib/interfaces/sse-module-options.interface.js';

const limitsOf = (options: SseModuleOptions) => new SseConnectionLimits(new SseSettings(options));

describe('SseConnectionLimits', () => {
  it('accepts everything when no limit is set', () => {
    const limits = limitsOf({});
    for (let i = 0; i < 1000; i++) limits.reserve('feed', 'ann');
    expect(limits.refusal('feed', 'ann')).toBeUndefined();
    expect(limits.size).toBe(1000);
  });

  it('refuses at maxConnections over all names, and accepts again once a slot is given back', () => {
    const limits = limitsOf({ maxConnections: 2 });
    const first = limits.reserve('a', undefined);
    limits.reserve('b', undefined);
    expect(limits.refusal('c', undefined)).toEqual({ reason: 'instance', message: expect.stringContaining('2 open connections') });
    first();
    expect(limits.refusal('c', undefined)).toBeUndefined();
  });

  it('counts maxConnectionsPerName per name', () => {
    const limits = limitsOf({ maxConnectionsPerName: 1 });
    limits.reserve('a', undefined);
    expect(limits.refusal('a', undefined)?.reason).toBe('name');
    expect(limits.refusal('a', undefined)?.message).toContain('"a"');
    expect(limits.refusal('b', undefined)).toBeUndefined();
  });

  it('counts maxConnectionsPerUser per user across names; connections without a user never count there', () => {
    const limits = limitsOf({ maxConnectionsPerUser: 2 });
    limits.reserve('a', 'ann');
    limits.reserve('b', 'ann');
    for (let i = 0; i < 10; i++) limits.reserve('a', undefined);
    expect(limits.refusal('c', 'ann')).toEqual({ reason: 'user', message: expect.stringContaining('maxConnectionsPerUser') });
    expect(limits.refusal('a', 'bob')).toBeUndefined();
    expect(limits.refusal('a', undefined)).toBeUndefined();
  });

  it('names the widest limit first: instance, then name, then user', () => {
    const limits = limitsOf({ maxConnections: 1, maxConnectionsPerName: 1, maxConnectionsPerUser: 1 });
    limits.reserve('a', 'ann');
    expect(limits.refusal('a', 'ann')?.reason).toBe('instance');
    const name = limitsOf({ maxConnectionsPerName: 1, maxConnectionsPerUser: 1 });
    name.reserve('a', 'ann');
    expect(name.refusal('a', 'ann')?.reason).toBe('name');
    expect(name.refusal('b', 'ann')?.reason).toBe('user');
  });

  it('gives a slot back once however often its release is called', () => {
    const limits = limitsOf({ maxConnectionsPerName: 2 });
    const release = limits.reserve('a', 'ann');
    limits.reserve('a', 'ann');
    release();
    release();
    release();
    expect(limits.size).toBe(1);
    expect(limits.refusal('a', 'ann')).toBeUndefined();
    limits.reserve('a', 'ann');
    expect(limits.refusal('a', 'ann')?.reason).toBe('name');
  });

  it('keeps no count for names and users that have come and gone', () => {
    const limits = limitsOf({ maxConnectionsPerName: 5, maxConnectionsPerUser: 5 });
    const releases = Array.from({ length: 1000 }, (_, i) => limits.reserve(`name${i}`, `user${i}`));
    for (const release of releases) release();
    expect(limits.size).toBe(0);
    const counts = limits as unknown as { perName: Map<string, number>; perUser: Map<string, number> };
    expect(counts.perName.size).toBe(0);
    expect(counts.perUser.size).toBe(0);
  });
});
