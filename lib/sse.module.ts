import { Global, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SseConfigurableModule } from './sse.module-definition.js';
import { SseHub } from './sse-hub.service.js';
import { SseLifecycleExplorer } from './sse-lifecycle.explorer.js';
import { SseSettings } from './config/sse-settings.js';
import { SseConnectionRegistry } from './connection/sse-connection.registry.js';
import { SseConnectionLimits } from './connection/sse-connection.limits.js';
import { SseClientIds } from './connection/sse-client-id.service.js';
import { SseConnectionMonitor } from './connection/sse-connection-monitor.js';
import { SseBufferBudget } from './connection/sse-buffer-budget.js';
import { SseStopTokens } from './connection/sse-stop-tokens.js';
import { SseCounters } from './delivery/sse-counters.js';
import { SseLocalDelivery } from './delivery/sse-local-delivery.js';
import { SsePublisher } from './delivery/sse-publisher.js';
import { SseMetrics } from './metrics/sse-metrics.service.js';
import { SseHistory } from './history/sse-history.js';
import { SseMemoryHistory } from './history/sse-memory-history.js';
import { SseConnectionFactory } from './http/sse-connection.factory.js';
import { SseConnectionInterceptor } from './http/sse-connection.interceptor.js';
import { SseContextPipe } from './http/sse-context.pipe.js';
import { SseHttp2Sessions } from './http/sse-http2-sessions.js';
import { SSE_TRANSPORT } from './transports/sse-transport.token.js';
import { SseStreams } from './streams/sse-streams.service.js';
import { MemoryTransport } from './transports/memory.transport.js';
import type { SseModuleOptions } from './interfaces/sse-module-options.interface.js';
import type { SseTransport } from './interfaces/sse-transport.interface.js';
import type { SseModuleAsyncOptions } from './interfaces/sse-module-async-options.interface.js';

/**
 * Registers `SseHub`, `@SseConnection()` and `@SseContext()` for the whole
 * application (a global module: import it once, in the root module).
 *
 * @example
 * ```ts
 * @Module({ imports: [SseModule.forRoot({ retry: 2000 })] })
 * export class AppModule {}
 * ```
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    SseSettings,
    SseHub,
    SseConnectionRegistry,
    SseConnectionFactory,
    SseConnectionLimits,
    SseConnectionInterceptor,
    SseContextPipe,
    SseHttp2Sessions,
    SseClientIds,
    SseConnectionMonitor,
    SseBufferBudget,
    SseStopTokens,
    SseLifecycleExplorer,
    SseCounters,
    SsePublisher,
    SseLocalDelivery,
    SseMetrics,
    SseStreams,
    {
      // The transport the options name, else this instance alone (throttler's storage pattern).
      provide: SSE_TRANSPORT,
      useFactory: (settings: SseSettings) => settings.transport ?? new MemoryTransport(),
      inject: [SseSettings],
    },
    // The transport's own history (Redis keeps it per topic), else this instance's memory.
    {
      provide: SseHistory,
      // A name's history is kept while it has connections here, and forgotten once it has neither those nor events.
      useFactory: (settings: SseSettings, registry: SseConnectionRegistry, transport: SseTransport) =>
        transport.history ?? new SseMemoryHistory(settings.history, (name) => registry.countOf(name) > 0),
      inject: [SseSettings, SseConnectionRegistry, SSE_TRANSPORT],
    },
  ],
  // The interceptor and pipe are instantiated in the modules of the controllers
  // that use them, so what they depend on is exported too.
  exports: [SseHub, SSE_TRANSPORT, SseConnectionInterceptor, SseContextPipe, SseConnectionFactory, SseConnectionRegistry, SsePublisher, SseLocalDelivery, SseStreams],
})
export class SseModule extends SseConfigurableModule implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly http2Sessions: SseHttp2Sessions,
    private readonly streams: SseStreams,
  ) {
    super();
  }

  /** Configures the module with static options (all optional). */
  static override forRoot(options: SseModuleOptions = {}): DynamicModule {
    return { ...super.forRoot(options), global: true };
  }

  /** Configures the module from a factory, a class or an existing provider (`SseOptionsFactory`). */
  static override forRootAsync(options: SseModuleAsyncOptions): DynamicModule {
    return { ...super.forRootAsync(options), global: true };
  }

  /**
   * Lets running resumable streams finish (at most `drainTimeout`, new ones
   * refused), then sends `sse.close` to every open stream before Nest closes
   * the HTTP server, then GOAWAY to every HTTP/2 session, so that none keeps
   * the server open.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.streams.drain();
    this.registry.closeAll('shutdown');
    this.http2Sessions.closeAll();
  }

  /** Ends `SseHub.events$` once the application is down. */
  onApplicationShutdown(): void {
    this.registry.complete();
  }
}
