import { assertIdentifier, isValidIdentifier } from '../../lib/addressing/identifiers.js';
import { normalizeTarget } from '../../lib/addressing/sse-target.js';
import { assertBroadcastLevel, assertMilliseconds, assertScope } from '../../lib/config/value-checks.js';
import { assertEvent } from '../../lib/delivery/sse-frame.encoder.js';
import { SseInvalidArgumentError } from '../../lib/errors/sse-invalid-argument.error.js';
import { SseError } from '../../lib/errors/sse.error.js';
import type { SseTarget } from '../../lib/interfaces/sse-event.interface.js';

describe('identifiers (names, groups, client ids)', () => {
  it.each(['a', 'events', 'x'.repeat(256), 'with space', 'ümlaut', '🌍', 's:id.sig', 'Case'])('accepts %j', (value) => {
    expect(isValidIdentifier(value)).toBe(true);
    expect(assertIdentifier('name', value)).toBe(value);
  });

  it.each<unknown>(['', 'x'.repeat(257), 'a\nb', 'a\rb', 'a\0b', 'tab\there', 'del\u007f', 'esc\u001b', 1, null, undefined, ['a'], {}])(
    'refuses %j',
    (value) => {
      expect(isValidIdentifier(value)).toBe(false);
      expect(() => assertIdentifier('group', value)).toThrow(SseInvalidArgumentError);
    },
  );

  it('names the kind and the limit in the message, and every error is an SseError', () => {
    let error: unknown;
    try {
      assertIdentifier('group', '');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SseError);
    expect((error as Error).name).toBe('SseInvalidArgumentError');
    expect((error as Error).message).toBe('nestjs-sse-hub: group "" is invalid: expected a string of 1–256 characters without control characters or unpaired surrogates.');
  });
});

describe('retry, scope and broadcast level', () => {
  it('accepts non-negative integers of milliseconds only', () => {
    expect(assertMilliseconds('retry', 0)).toBe(0);
    expect(assertMilliseconds('retry', 15000)).toBe(15000);
    for (const bad of [-1, 1.5, Number.NaN, Infinity, '10', null, 2 ** 53]) {
      expect(() => assertMilliseconds('retry', bad)).toThrow(SseInvalidArgumentError);
    }
  });

  it('accepts the known scopes and levels only', () => {
    expect(assertScope('global')).toBe('global');
    expect(assertScope('local')).toBe('local');
    expect(() => assertScope('Global')).toThrow(SseInvalidArgumentError);
    for (const level of ['name', 'group', 'clientId'] as const) expect(assertBroadcastLevel(level)).toBe(level);
    expect(() => assertBroadcastLevel('client')).toThrow(/broadcast level "client" is invalid/);
  });
});

describe('normalizeTarget', () => {
  it('turns every selector into a list and leaves missing ones undefined', () => {
    expect(normalizeTarget({ name: 'a' })).toEqual({ names: ['a'], groups: undefined, clientIds: undefined });
    expect(normalizeTarget({ name: ['a', 'b'], group: 'g', clientId: ['x'] })).toEqual({
      names: ['a', 'b'],
      groups: ['g'],
      clientIds: ['x'],
    });
    // An empty list is kept: it matches nobody (not everybody).
    expect(normalizeTarget({ name: 'a', group: [] }).groups).toEqual([]);
  });

  it.each<unknown>([undefined, null, 'events', {}, { name: [] }, { name: '' }, { name: ['ok', ''] }, { name: 'a', group: 'g\n' }, { name: 'a', clientId: [1] }])(
    'refuses %j',
    (target) => {
      expect(() => normalizeTarget(target as SseTarget)).toThrow(SseInvalidArgumentError);
    },
  );
});

describe('assertEvent', () => {
  it('accepts any data, including undefined when the property is present', () => {
    expect(() => assertEvent({ data: undefined })).not.toThrow();
    expect(() => assertEvent({ data: 'x', event: 'message', id: '', retry: 0 })).not.toThrow();
  });

  it('says which field is wrong', () => {
    expect(() => assertEvent({ data: 1, event: 'a\nb' })).toThrow(/^nestjs-sse-hub: event event "a\\nb" is refused/);
    expect(() => assertEvent({ data: 1, id: 'a\rb' })).toThrow(/^nestjs-sse-hub: event id "a\\rb" is refused/);
    expect(() => assertEvent({ data: 1, retry: -5 })).toThrow(/event retry -5 is invalid/);
  });
});
