import { SseSettings } from '../../lib/config/sse-settings.js';
import { SseInvalidArgumentError } from '../../lib/index.js';
import type { SseModuleOptions } from '../../lib/index.js';

describe('delivery options', () => {
  it('defaults to 1000 events, 5 minutes and 1 MiB', () => {
    const settings = new SseSettings({});
    expect(settings.history).toEqual({ size: 1000, ttl: 300_000, maxTopics: 10_000, maxBytes: 64 * 1024 * 1024 });
    expect(settings.maxBufferedBytes).toBe(1024 * 1024);
  });

  it('accepts size 0 (history off) and explicit values', () => {
    const settings = new SseSettings({ history: { size: 0, ttl: 1000 }, maxBufferedBytes: 4096 });
    expect(settings.history).toEqual({ size: 0, ttl: 1000, maxTopics: 10_000, maxBytes: 64 * 1024 * 1024 });
    expect(settings.maxBufferedBytes).toBe(4096);
  });

  it.each<[string, unknown]>([
    ['history', { history: 5 }],
    ['history.size', { history: { size: -1 } }],
    ['history.size', { history: { size: 1.5 } }],
    ['history.ttl', { history: { ttl: 0 } }],
    ['history.ttl', { history: { ttl: '5m' } }],
    ['maxBufferedBytes', { maxBufferedBytes: 0 }],
    ['maxBufferedBytes', { maxBufferedBytes: Infinity }],
  ])('refuses a bad %s with a typed error naming it', (option, options) => {
    expect(() => new SseSettings(options as SseModuleOptions)).toThrow(SseInvalidArgumentError);
    expect(() => new SseSettings(options as SseModuleOptions)).toThrow(`option ${option} `);
  });
});
