import type { Attributes, BatchObservableResult, MeterProvider, Observable } from '@opentelemetry/api';
import { METER_NAME, SEND_DURATION_BUCKETS_S } from '../sse.constants.js';
import { SSE_INSTRUMENTS as I, SSE_METRIC_ATTRIBUTES as A } from './sse-instruments.js';
import type { SseCounters } from '../delivery/sse-counters.js';

/** What the instruments read on each collection. */
export interface SseMetricsSource {
  readonly counters: SseCounters;
  /** Reports the open connections, once per attribute set (`sse.scope`, and `sse.name` when by name). */
  connections(report: (count: number, attributes: Attributes) => void): void;
}

/**
 * Creates the hub's instruments on `provider` and binds them to `source`;
 * returns what unbinds them. Counters and the gauge are observable: read from
 * `SseCounters` when the SDK collects, so sends pay nothing for them. Only
 * the send duration is recorded as it happens (one histogram record per send,
 * never per recipient).
 */
export function bindOpenTelemetry(provider: MeterProvider, source: SseMetricsSource): () => void {
  const meter = provider.getMeter(METER_NAME);
  const observable = (kind: 'counter' | 'upDown', spec: { name: string; unit: string; description: string }): Observable => {
    const options = { unit: spec.unit, description: spec.description };
    return kind === 'counter' ? meter.createObservableCounter(spec.name, options) : meter.createObservableUpDownCounter(spec.name, options);
  };
  const connections = observable('upDown', I.connections);
  const eventsSent = observable('counter', I.eventsSent);
  const bytesWritten = observable('counter', I.bytesWritten);
  const dropped = observable('counter', I.dropped);
  const replays = observable('counter', I.replays);
  const gaps = observable('counter', I.gaps);
  const transportErrors = observable('counter', I.transportErrors);
  const streamErrors = observable('counter', I.streamErrors);
  const all = [connections, eventsSent, bytesWritten, dropped, replays, gaps, transportErrors, streamErrors];

  const { counters } = source;
  const collect = (result: BatchObservableResult): void => {
    source.connections((count, attributes) => result.observe(connections, count, attributes));
    const values = counters.snapshot();
    if (counters.byName) {
      for (const [label, named] of counters.namedCounts()) {
        const attributes = { [A.name]: label };
        result.observe(eventsSent, named.eventsSent, attributes);
        result.observe(replays, named.replaysServed, attributes);
        result.observe(gaps, named.gapsSignalled, attributes);
      }
    } else {
      result.observe(eventsSent, values.eventsSent);
      result.observe(replays, values.replaysServed);
      result.observe(gaps, values.gapsSignalled);
    }
    result.observe(bytesWritten, values.bytesWritten);
    result.observe(dropped, values.slowClientDisconnects, { [A.reason]: 'slow' });
    result.observe(dropped, values.budgetDisconnects, { [A.reason]: 'budget' });
    result.observe(dropped, values.stalledDisconnects, { [A.reason]: 'stall' });
    result.observe(transportErrors, values.transportErrors);
    result.observe(streamErrors, values.streamErrors);
  };
  meter.addBatchObservableCallback(collect, all);

  const duration = meter.createHistogram(I.sendDuration.name, {
    unit: I.sendDuration.unit,
    description: I.sendDuration.description,
    advice: { explicitBucketBoundaries: SEND_DURATION_BUCKETS_S },
  });
  counters.onSendDuration((seconds) => duration.record(seconds));

  return () => {
    meter.removeBatchObservableCallback(collect, all);
    counters.onSendDuration(undefined);
  };
}
