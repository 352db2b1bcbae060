import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import type { BenchSubject } from './subject.js';

@Controller()
class FeedController {
  @Get('sse')
  @SseConnection({ name: 'bench' })
  open(): void {}
}

@Module({ imports: [SseModule.forRoot()], controllers: [FeedController] })
class FeedModule {}

/** This library on Express, memory transport: `SseHub.send({ name }, { data })` per event. */
export async function start(): Promise<BenchSubject> {
  const app = await NestFactory.create(FeedModule, new ExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const hub = app.get(SseHub);
  const target = { name: 'bench' };
  return {
    port: (app.getHttpServer().address() as AddressInfo).port,
    connections: () => hub.count(target),
    broadcast: (payload) => void hub.send(target, { data: payload }),
    close: () => app.close(),
  };
}
