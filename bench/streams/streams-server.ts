/**
 * The server of the resumable-streams bench: this library on Express with
 * two POST routes that stream `count` events of `bytes` each, at full speed
 * (paced by the client) or `rate` events/s: `/plain` an ordinary local
 * stream, `/resumable` the same recorded (`resumable: true`). Reports its CPU
 * and memory on request. Run with --expose-gc.
 */
import 'reflect-metadata';
import { Controller, Module, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SseConnection, SseModule } from '../../lib/index.js';
import { serve } from '../ipc.js';
import { memory } from '../process-memory.js';

/** The events of one answer: `count` of `bytes`, one every 1000/rate ms (rate 0: as fast as the client takes them). */
async function* answer(count: number, bytes: number, rate: number): AsyncGenerator<{ data: string }> {
  const word = 'w'.repeat(bytes);
  for (let i = 0; i < count; i++) {
    if (rate > 0) await sleep(1000 / rate);
    yield { data: word };
  }
}

const params = (count: string, bytes: string, rate: string) => answer(Number(count), Number(bytes), Number(rate ?? 0));

@Controller()
class AnswerController {
  @Post('plain')
  @SseConnection({ name: 'plain', scope: 'local' })
  plain(@Query('count') count: string, @Query('bytes') bytes: string, @Query('rate') rate: string) {
    return params(count, bytes, rate);
  }

  @Post('resumable')
  @SseConnection({ name: 'resumable', scope: 'local', resumable: { ttl: 600_000 } })
  resumable(@Query('count') count: string, @Query('bytes') bytes: string, @Query('rate') rate: string) {
    return params(count, bytes, rate);
  }
}

// Recordings of a long full-speed stream pass the 8 MiB default: this bench measures their cost, not the cap.
@Module({ imports: [SseModule.forRoot({ keepAlive: 0, maxRecordedBytes: 512 * 1024 * 1024, drainTimeout: 0 })], controllers: [AnswerController] })
class BenchModule {}

const app = await NestFactory.create(BenchModule, new ExpressAdapter(), { logger: false });
await app.listen(0, '127.0.0.1');
let cpuFrom = process.cpuUsage();

serve(async (request) => {
  switch (request.type) {
    case 'mark':
      cpuFrom = process.cpuUsage();
      return {};
    case 'cpu': {
      const { user, system } = process.cpuUsage(cpuFrom);
      return { cpuMicros: user + system };
    }
    case 'memory':
      return memory();
    case 'stop':
      await app.close();
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error(`unknown request ${request.type}`);
  }
});
process.send?.({ type: 'ready', port: (app.getHttpServer().address() as AddressInfo).port });
