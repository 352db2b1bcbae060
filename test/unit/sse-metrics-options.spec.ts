import { SseSettings } from '../../lib/config/sse-settings.js';
import { SseInvalidArgumentError, type SseModuleOptions } from '../../lib/index.js';
import { loadOpenTelemetry } from '../../lib/metrics/load-opentelemetry.js';
import { nameLabeler } from '../../lib/metrics/sse-metric-labels.js';

const provider = { getMeter: () => ({}) };

describe('metrics option', () => {
  it('is on when @opentelemetry/api loads, by default, without names', () => {
    expect(new SseSettings({}).metrics).toEqual({ mode: 'auto', meterProvider: undefined, byName: false });
  });

  it('requires the API when asked for, and is off with false', () => {
    expect(new SseSettings({ metrics: true }).metrics.mode).toBe('required');
    expect(new SseSettings({ metrics: false }).metrics.mode).toBe('off');
    expect(new SseSettings({ metrics: { meterProvider: provider, byName: ['a', 'b'] } }).metrics).toEqual({
      mode: 'required',
      meterProvider: provider,
      byName: new Set(['a', 'b']),
    });
  });

  it.each<[string, unknown]>([
    ['metrics', 'yes'],
    ['metrics.byName', { byName: 'all' }],
    ['metrics.meterProvider', { meterProvider: {} }],
    ['name', { byName: ['ok', ''] }],
    ['metrics.views', { views: [] }],
  ])('refuses a bad %s with a typed error naming it', (what, metrics) => {
    const options = { metrics } as SseModuleOptions;
    expect(() => new SseSettings(options)).toThrow(SseInvalidArgumentError);
    expect(() => new SseSettings(options)).toThrow(what);
  });

  it('names only what byName allows, and never more than the listed names plus _other', () => {
    expect(nameLabeler(false)).toBeUndefined();
    expect(nameLabeler(true)!('user-42')).toBe('user-42');
    const listed = nameLabeler(new Set(['prices']))!;
    expect(['prices', 'user-42', 'user-43'].map(listed)).toEqual(['prices', '_other', '_other']);
  });
});

describe('loading @opentelemetry/api', () => {
  const missing = () => Promise.reject(new Error("Cannot find package '@opentelemetry/api'"));

  it('is a silent no-op without the package by default', async () => {
    await expect(loadOpenTelemetry('auto', missing)).resolves.toBeUndefined();
  });

  it('fails the start without the package when metrics were asked for', async () => {
    await expect(loadOpenTelemetry('required', missing)).rejects.toThrow(SseInvalidArgumentError);
    await expect(loadOpenTelemetry('required', missing)).rejects.toThrow(/needs @opentelemetry\/api .*Cannot find package/);
  });

  it('loads the real package', async () => {
    const api = await loadOpenTelemetry('required');
    expect(typeof api!.metrics.getMeterProvider).toBe('function');
  });
});
