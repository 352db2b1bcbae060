import { Controller, Get } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { SseTestClient } from '../../lib/testing.js';
import { platforms, startApp, type TestApp } from '../support/app.js';

@Controller()
class FeedController {
  @Get('feed')
  @SseConnection({ name: 'feed' })
  feed() {}
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dashboard = readFileSync(path.join(root, 'docs/grafana/nestjs-sse-hub.json'), 'utf8');
/** Every metric the dashboard's PromQL reads. */
const dashboardMetrics = [...new Set([...dashboard.matchAll(/\bsse_hub_[a-z_]+/g)].map(([name]) => name))].sort();

// The README's Prometheus recipe (the exporter as the global provider's reader), scraped as
// Prometheus would, against what the Grafana dashboard in docs/grafana reads.
describe.each(platforms)('the Prometheus recipe and the Grafana dashboard ($name)', (platform) => {
  let t: TestApp;
  let provider: MeterProvider;
  let scrapeServer: http.Server;
  const clients: SseTestClient[] = [];

  beforeAll(async () => {
    // The recipe serves /metrics on its own port; here the same handler on a free loopback port.
    const exporter = new PrometheusExporter({ preventServerStart: true });
    provider = new MeterProvider({ readers: [exporter] });
    metrics.setGlobalMeterProvider(provider);
    scrapeServer = http.createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
    await new Promise<void>((resolve) => scrapeServer.listen(0, '127.0.0.1', resolve));
    t = await startApp(platform, { imports: [SseModule.forRoot({ metrics: { byName: true } })], controllers: [FeedController] });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await t.close();
    await new Promise((resolve) => scrapeServer.close(resolve));
    metrics.disable();
    await provider.shutdown();
  });

  const scrape = async () => {
    const { port } = scrapeServer.address() as AddressInfo;
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  };

  it('exposes every metric the dashboard reads, with the types and labels it expects', async () => {
    expect(dashboardMetrics.length).toBeGreaterThanOrEqual(9);
    const client = await SseTestClient.connect(t.app, '/feed');
    clients.push(client);
    await client.opened();
    await t.app.get(SseHub).send({ name: 'feed' }, { data: 'tick' });
    await client.next('message');

    const text = await scrape();
    const exposed = new Set([...text.matchAll(/^([a-z_]+)(?:\{|\s)/gm)].map(([, name]) => name));
    expect(dashboardMetrics.filter((name) => !exposed.has(name))).toEqual([]);
    expect(text).toContain('# TYPE sse_hub_connections gauge');
    expect(text).toContain('# TYPE sse_hub_events_sent_total counter');
    expect(text).toContain('# TYPE sse_hub_send_duration histogram');
    expect(text).toMatch(/^sse_hub_connections\{[^}]*sse_scope="global"[^}]*sse_name="feed"[^}]*\} 1$/m);
    expect(text).toMatch(/^sse_hub_events_sent_total\{[^}]*sse_name="feed"[^}]*\} 1$/m);
    expect(text).toMatch(/^sse_hub_connections_dropped_total\{[^}]*sse_reason="slow"[^}]*\} 0$/m);
    expect(text).toMatch(/^sse_hub_send_duration_count\{[^}]*\} 1$/m);
  });
});
