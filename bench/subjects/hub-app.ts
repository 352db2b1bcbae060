import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { SseConnection, SseHub, SseModule, type SseModuleOptions } from '../../lib/index.js';
import type { BenchSubject } from './subject.js';

@Controller()
class FeedController {
  @Get('sse')
  @SseConnection({ name: 'bench' })
  open(): void {}
}

/**
 * This library on a given platform and with given module options:
 * `SseHub.send({ name }, { data })` per event. Shared by the hub subjects.
 */
export async function startHub(
  adapter: AbstractHttpAdapter,
  // Loose on purpose: options of transports this tree may not have yet.
  options: Record<string, unknown> = {},
): Promise<BenchSubject> {
  @Module({ imports: [SseModule.forRoot(options as SseModuleOptions)], controllers: [FeedController] })
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
