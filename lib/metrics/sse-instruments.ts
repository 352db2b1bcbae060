/**
 * The hub's OpenTelemetry instruments, in one table: the binding creates them
 * from it, and the README and the Grafana dashboard name them after it. With
 * `@opentelemetry/exporter-prometheus` a name becomes its Prometheus name by
 * dots → underscores, plus `_total` on counters (e.g. `sse_hub_events_sent_total`).
 */
export const SSE_INSTRUMENTS = {
  connections: { name: 'sse_hub.connections', unit: '{connection}', description: 'Open SSE connections on this instance, by scope.' },
  eventsSent: { name: 'sse_hub.events.sent', unit: '{event}', description: 'Events accepted for sending, each counted once however many clients got it.' },
  bytesWritten: { name: 'sse_hub.bytes.written', unit: 'By', description: 'Bytes handed to client sockets: every copy, protocol frames, replays, keep-alives.' },
  dropped: { name: 'sse_hub.connections.dropped', unit: '{connection}', description: 'Connections the hub dropped, by sse.reason: slow (maxBufferedBytes), budget (maxTotalBufferedBytes), stall (stallTimeout).' },
  replays: { name: 'sse_hub.replays', unit: '{reconnection}', description: 'Reconnections with a Last-Event-ID resumed from history.' },
  gaps: { name: 'sse_hub.gaps', unit: '{reconnection}', description: 'Reconnections whose Last-Event-ID was too old or unknown, answered with sse.gap.' },
  sendDuration: { name: 'sse_hub.send.duration', unit: 's', description: 'From SseHub.send to the transport accepting the send.' },
  transportErrors: { name: 'sse_hub.transport.errors', unit: '{send}', description: 'Sends the transport rejected (delivered nowhere).' },
  streamErrors: { name: 'sse_hub.stream.errors', unit: '{error}', description: 'SseHub.to() values that could not be sent, and streams that errored.' },
} as const;

/** The attributes an instrument may carry; none holds a user, group or client id. */
export const SSE_METRIC_ATTRIBUTES = {
  /** `global` or `local` (connections). */
  scope: 'sse.scope',
  /** The connection name, only with `metrics.byName` (connections, events, replays, gaps). */
  name: 'sse.name',
  /** `slow`, `budget` or `stall` (dropped connections). */
  reason: 'sse.reason',
} as const;
