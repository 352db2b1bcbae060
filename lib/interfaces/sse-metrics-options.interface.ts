/**
 * An OpenTelemetry `MeterProvider` (from `@opentelemetry/sdk-metrics`, or any
 * implementation of the API's interface). Typed by the one method the hub
 * calls, so that these declarations compile without `@opentelemetry/api`.
 */
export interface SseMeterProvider {
  getMeter(name: string, version?: string, options?: { schemaUrl?: string }): object;
}

/**
 * `SseModuleOptions.metrics`: the hub's OpenTelemetry instruments (README,
 * "Observability"). They read the same counters as `SseHub.stats()`.
 */
export interface SseMetricsOptions {
  /**
   * Where the instruments are created. Default: the global provider of
   * `@opentelemetry/api` (`metrics.getMeterProvider()`), as registered by the
   * OpenTelemetry SDK before the app starts.
   */
  meterProvider?: SseMeterProvider;
  /**
   * Adds the `sse.name` attribute to connections, events, replays and gaps:
   * `true` for every name, or a list of names (any other name is reported as
   * `_other`). Default `false`: one series per instrument. Only for a bounded
   * set of names: a name made per user would make one series per user.
   */
  byName?: boolean | string[];
}
