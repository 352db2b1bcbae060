import { Controller, Get } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { filter, firstValueFrom, NEVER, throwError } from 'rxjs';
import { SseConnection, SseHub, SseModule, SseTransportError, type SseModuleOptions, type SseRequest } from '../../lib/index.js';
import { SSE_INSTRUMENTS } from '../../lib/metrics/sse-instruments.js';
import { platforms, startApp, type Platform, type TestApp } from '../support/app.js';
import { MetricsProbe } from '../support/metrics.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { SseClientPool } from '../support/sse-client.js';
import { SwitchableTransport } from '../support/switchable-transport.js';

@Controller()
class MetricsController {
  @Get('feed')
  @SseConnection({ name: 'feed', group: (req: SseRequest) => req.query.room as string | undefined })
  feed() {}

  @Get('other')
  @SseConnection({ name: 'other' })
  other() {}

  @Get('local')
  @SseConnection({ name: 'local', scope: 'local' })
  local() {
    return NEVER;
  }
}

const N = Object.fromEntries(Object.entries(SSE_INSTRUMENTS).map(([key, spec]) => [key, spec.name])) as {
  [K in keyof typeof SSE_INSTRUMENTS]: string;
};
const ALLOWED_ATTRIBUTES = ['sse.scope', 'sse.name', 'sse.reason'];

describe.each(platforms)('metrics through OpenTelemetry ($name)', (platform: Platform) => {
  const pool = new SseClientPool();
  const apps: TestApp[] = [];
  const probes: MetricsProbe[] = [];

  const start = async (options: SseModuleOptions, logger = new RecordingLogger()) => {
    const t = await startApp(platform, { imports: [SseModule.forRoot(options)], controllers: [MetricsController] }, { logger });
    apps.push(t);
    return { t, hub: t.app.get(SseHub), logger };
  };
  const probe = () => {
    const created = new MetricsProbe();
    probes.push(created);
    return created;
  };

  afterEach(async () => {
    await pool.closeAll();
    for (const app of apps.splice(0)) await app.close();
    for (const p of probes.splice(0)) await p.shutdown();
  });

  it('moves every instrument, read by a real MeterProvider, and no attribute carries a user, group or client id', async () => {
    const metricsProbe = probe();
    const transport = new SwitchableTransport();
    const { t, hub } = await start({ transport, metrics: { meterProvider: metricsProbe.provider, byName: ['feed'] } });

    const alice = await pool.connect(`${t.url}/feed?room=red-room`, { headers: { 'x-sse-client-id': 'alice-private-id' } });
    await pool.connect(`${t.url}/other`, { headers: { 'x-sse-client-id': 'bob-private-id' } });
    await pool.connect(`${t.url}/local`);
    const connections = await metricsProbe.collect();
    expect(connections.get(N.connections)!.points).toEqual(
      expect.arrayContaining([
        { attributes: { 'sse.scope': 'global', 'sse.name': 'feed' }, value: 1 },
        { attributes: { 'sse.scope': 'global', 'sse.name': '_other' }, value: 1 },
        { attributes: { 'sse.scope': 'local', 'sse.name': '_other' }, value: 1 },
      ]),
    );

    await hub.send({ name: 'feed' }, [{ id: 'first', data: 1 }, { data: 2 }]);
    await hub.send({ name: 'other' }, { data: 'x' });
    await alice.client.collect('message', 2);
    // A replay from a known id, and a gap from an unknown one.
    const replayed = await pool.connect(`${t.url}/feed`, { headers: { 'last-event-id': 'first' } });
    await replayed.client.next('message');
    const gapped = await pool.connect(`${t.url}/feed`, { headers: { 'last-event-id': 'never-sent' } });
    await gapped.client.next('sse.gap');
    // A send the transport rejects, and a stream that errors.
    transport.failing = true;
    await expect(hub.send({ name: 'feed' }, { data: 'lost' })).rejects.toThrow(SseTransportError);
    transport.failing = false;
    throwError(() => new Error('upstream broke')).subscribe(hub.to({ name: 'feed' }));

    const collected = await metricsProbe.collect();
    const value = (name: string, where: Record<string, unknown> = {}) =>
      (collected.get(name)?.points ?? [])
        .filter((point) => Object.entries(where).every(([key, v]) => point.attributes[key] === v))
        .reduce((sum, point) => sum + point.value, 0);
    expect(value(N.eventsSent, { 'sse.name': 'feed' })).toBe(2);
    expect(value(N.eventsSent, { 'sse.name': '_other' })).toBe(1);
    expect(value(N.bytesWritten)).toBe(hub.stats().bytesWritten);
    expect(value(N.bytesWritten)).toBeGreaterThan(0);
    expect(value(N.replays, { 'sse.name': 'feed' })).toBe(1);
    expect(value(N.gaps, { 'sse.name': 'feed' })).toBe(1);
    expect(value(N.transportErrors)).toBe(1);
    expect(value(N.streamErrors)).toBe(1);
    // Two sends were accepted: the histogram holds two durations, the rejected one is not among them.
    const duration = collected.get(N.sendDuration)!;
    expect(duration.metric.descriptor.unit).toBe('s');
    expect(duration.points).toEqual([{ attributes: {}, value: 2, sum: expect.any(Number) }]);
    expect(duration.points[0].sum).toBeGreaterThan(0);
    expect(value(N.connections, { 'sse.scope': 'global' })).toBe(4);
    // Every instrument is there, and stats() tells the same story.
    expect([...collected.keys()].sort()).toEqual(Object.values(N).sort());
    expect(hub.stats()).toMatchObject({ eventsSent: 3, replaysServed: 1, gapsSignalled: 1, transportErrors: 1, streamErrors: 1 });

    const secrets = ['alice-private-id', 'bob-private-id', 'red-room', alice.clientId];
    for (const { points } of collected.values()) {
      for (const { attributes } of points) {
        for (const [key, v] of Object.entries(attributes)) {
          expect(ALLOWED_ATTRIBUTES).toContain(key);
          expect(secrets).not.toContain(v);
        }
      }
    }
  });

  it('carries no sse.name without byName, and every name with byName: true', async () => {
    const plain = probe();
    const named = probe();
    const a = await start({ metrics: { meterProvider: plain.provider } });
    const b = await start({ metrics: { meterProvider: named.provider, byName: true } });
    for (const { t, hub } of [a, b]) {
      await pool.connect(`${t.url}/other`);
      await hub.send({ name: 'other' }, { data: 1 });
    }
    const plainPoints = [...(await plain.collect()).values()].flatMap(({ points }) => points);
    expect(plainPoints.filter((point) => 'sse.name' in point.attributes)).toEqual([]);
    expect(await plain.value(N.eventsSent)).toBe(1);
    expect(await named.value(N.eventsSent, { 'sse.name': 'other' })).toBe(1);
    expect(await named.value(N.connections, { 'sse.name': 'other', 'sse.scope': 'global' })).toBe(1);
  });

  it('uses the global meter provider by default', async () => {
    const global = probe();
    metrics.setGlobalMeterProvider(global.provider);
    try {
      const { t, hub } = await start({});
      await pool.connect(`${t.url}/other`);
      await hub.send({ name: 'other' }, { data: 1 });
      expect(await global.value(N.eventsSent)).toBe(1);
    } finally {
      metrics.disable();
    }
  });

  it('reports nothing once turned off', async () => {
    const off = probe();
    metrics.setGlobalMeterProvider(off.provider);
    try {
      const { t, hub } = await start({ metrics: false });
      await pool.connect(`${t.url}/other`);
      await hub.send({ name: 'other' }, { data: 1 });
      expect([...(await off.collect()).keys()]).toEqual([]);
      // The counters themselves still count.
      expect(hub.stats().eventsSent).toBe(1);
    } finally {
      metrics.disable();
    }
  });

  describe.each([
    { reason: 'slow', options: { maxBufferedBytes: 64 * 1024, stallTimeout: 0 } },
    { reason: 'budget', options: { maxBufferedBytes: 512 * 1024 * 1024, maxTotalBufferedBytes: 64 * 1024, stallTimeout: 0 } },
    { reason: 'stall', options: { maxBufferedBytes: 512 * 1024 * 1024, stallTimeout: 100 } },
  ])('a $reason drop', ({ reason, options }) => {
    it(`counts it under sse.reason="${reason}" only`, async () => {
      const dropProbe = probe();
      const { t, hub } = await start({ ...options, metrics: { meterProvider: dropProbe.provider } });
      const { client } = await pool.connect(`${t.url}/other`);
      const disconnected = firstValueFrom(hub.events$.pipe(filter((event) => event.type === 'disconnect')));
      let gone = false;
      void disconnected.then(() => (gone = true));
      client.pause();
      // A reader that stopped reading: the kernel's buffers fill first, then the server's backlog grows.
      const chunk = 'z'.repeat(64 * 1024);
      for (let sent = 0; !gone && sent < 1024; sent++) {
        await hub.send({ name: 'other' }, { data: chunk });
        await new Promise((resolve) => setImmediate(resolve));
      }
      await disconnected;
      client.resume();
      const dropped = (await dropProbe.collect()).get(N.dropped)!.points;
      expect(dropped).toEqual(
        expect.arrayContaining(
          ['slow', 'budget', 'stall'].map((r) => ({ attributes: { 'sse.reason': r }, value: r === reason ? 1 : 0 })),
        ),
      );
    });
  });
});
