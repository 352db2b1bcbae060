import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import * as thisTree from '../../lib/index.js';
import type { BenchSubject } from './subject.js';

/** What a bench app needs of the library: this tree's, or a baseline's (bench/baseline.ts). */
export type HubLibrary = Pick<typeof thisTree, 'SseConnection' | 'SseHub' | 'SseModule'>;

/**
 * This library on a given platform and with given module options:
 * `SseHub.send({ name }, { data })` per event. Shared by the hub subjects.
 * The app is built from `library`'s own decorator, module and hub, so that a
 * baseline's routes run the baseline's interceptor, not this tree's.
 */
export async function startHub(
  adapter: AbstractHttpAdapter,
  // Loose on purpose: options of transports this tree may not have yet.
  options: Record<string, unknown> = {},
  library: HubLibrary = thisTree,
): Promise<BenchSubject> {
  const { SseConnection, SseHub, SseModule } = library;

  @Controller()
  class FeedController {
    @Get('sse')
    @SseConnection({ name: 'bench' })
    open(): void {}
  }

  @Module({ imports: [SseModule.forRoot(options as thisTree.SseModuleOptions)], controllers: [FeedController] })
  class FeedModule {}
  const app = await NestFactory.create(FeedModule, adapter, { logger: false });
  await app.listen(0, '127.0.0.1');
  const hub = app.get(SseHub);
  const target = { name: 'bench' };
  return {
    port: (app.getHttpServer().address() as AddressInfo).port,
    // This instance's own connections (a cluster-wide count would be summed twice over instances).
    connections: () => hub.stats().connections,
    broadcast: (payload) => void hub.send(target, { data: payload }),
    close: () => app.close(),
  };
}
