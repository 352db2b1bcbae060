import { Injectable, Logger, RequestMethod, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import { SSE_CONNECTION_METADATA, SSE_LIFECYCLE_METADATA } from './sse.constants.js';
import { SseConnectionRegistry } from './connection/sse-connection.registry.js';
import { SseMessages } from './sse.messages.js';
import { SseInvalidArgumentError } from './errors/sse-invalid-argument.error.js';
import { assertRouteOptions } from './config/route-options.js';
import { SseSettings } from './config/sse-settings.js';
import type { SseConnectionOptions } from './interfaces/sse-connection-options.interface.js';
import type { SseLifecycleListener } from './decorators/on-sse-lifecycle.decorator.js';

type Instance = Record<string, (...args: unknown[]) => unknown>;

/**
 * At bootstrap: checks every `@SseConnection()` route (GET or POST only, its
 * options as a whole: see `assertRouteOptions`) and
 * subscribes `@OnSseConnect()` / `@OnSseDisconnect()` methods to the registry.
 */
@Injectable()
export class SseLifecycleExplorer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('SseHub');
  private subscription: Subscription | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly registry: SseConnectionRegistry,
    private readonly settings: SseSettings,
  ) {}

  onModuleInit(): void {
    this.checkRoutes();
    const listeners = this.findListeners();
    if (listeners.length === 0) return;
    this.subscription = this.registry.events$.subscribe((event) => {
      for (const { listener, instance, method, where } of listeners) {
        if (listener.type !== event.type) continue;
        if (listener.name !== undefined && listener.name !== event.connection.name) continue;
        try {
          const result = instance[method](event.connection);
          if (result instanceof Promise) result.catch((error: unknown) => this.report(where, error));
        } catch (error) {
          this.report(where, error);
        }
      }
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  private checkRoutes(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as Instance | undefined;
      if (!instance) continue;
      const prototype = Object.getPrototypeOf(instance) as Instance;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method];
        const options = this.reflector.get<SseConnectionOptions | undefined>(SSE_CONNECTION_METADATA, handler);
        if (!options) continue;
        const where = `${wrapper.name}.${method}()`;
        const verb = this.reflector.get<RequestMethod | undefined>(METHOD_METADATA, handler);
        if (verb === undefined) throw new SseInvalidArgumentError(SseMessages.notARoute(where));
        if (verb !== RequestMethod.GET && verb !== RequestMethod.POST) {
          throw new SseInvalidArgumentError(SseMessages.unsupportedRouteMethod(where, RequestMethod[verb]));
        }
        assertRouteOptions(where, options, RequestMethod[verb], this.settings.defaultScope);
      }
    }
  }

  private findListeners() {
    const found: Array<{ listener: SseLifecycleListener; instance: Instance; method: string; where: string }> = [];
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as Instance | undefined;
      // Request-scoped providers have no single instance to call.
      if (!instance || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as Instance | null;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const listener = this.reflector.get<SseLifecycleListener | undefined>(SSE_LIFECYCLE_METADATA, prototype[method]);
        if (listener) found.push({ listener, instance, method, where: `${wrapper.name}.${method}()` });
      }
    }
    return found;
  }

  private report(where: string, error: unknown): void {
    this.logger.error(SseMessages.lifecycleHandlerFailed(where), error instanceof Error ? error.stack : String(error));
  }
}
