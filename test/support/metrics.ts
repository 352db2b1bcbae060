import { MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';

/** A reader that collects only when asked: the test's in-memory view of the SDK. */
class InMemoryReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One data point as a test reads it. */
export interface Point {
  attributes: Record<string, unknown>;
  /** A counter's or gauge's value; a histogram's count. */
  value: number;
  /** A histogram's sum (undefined for others). */
  sum?: number;
}

/**
 * A real OpenTelemetry `MeterProvider` with an in-memory reader: give
 * `provider` to `SseModule.forRoot({ metrics: { meterProvider } })`, then
 * `collect()` what the SDK would export.
 */
export class MetricsProbe {
  private readonly reader = new InMemoryReader();
  readonly provider = new MeterProvider({ readers: [this.reader] });

  /** Every instrument's data points, by instrument name. */
  async collect(): Promise<Map<string, { metric: MetricData; points: Point[] }>> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw errors[0];
    const found = new Map<string, { metric: MetricData; points: Point[] }>();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        const points = (metric.dataPoints as DataPoint<number | Histogram>[]).map((point): Point => {
          const value = point.value;
          return typeof value === 'number'
            ? { attributes: { ...point.attributes }, value }
            : { attributes: { ...point.attributes }, value: value.count, sum: value.sum };
        });
        found.set(metric.descriptor.name, { metric, points });
      }
    }
    return found;
  }

  /** The summed value of an instrument's points whose attributes include `where`. */
  async value(name: string, where: Record<string, unknown> = {}): Promise<number> {
    const points = (await this.collect()).get(name)?.points ?? [];
    return points
      .filter((point) => Object.entries(where).every(([key, value]) => point.attributes[key] === value))
      .reduce((sum, point) => sum + point.value, 0);
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
