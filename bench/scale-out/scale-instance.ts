/**
 * One application instance of a scale-out run, in its own process: Express,
 * `RedisTransport`, one SSE route per name (`GET /sse/<name>?id=<client id>&user=<user>`).
 * Answers the orchestrator over IPC with its connections, CPU and Redis reads.
 */
import 'reflect-metadata';
import { Controller, Get, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { serve } from '../ipc.js';
import { memory } from '../process-memory.js';
import { scaleOptions, transportOptions } from './scale-options.js';

type Query = { query: Record<string, string | undefined> };

/** A controller with the one route of `name`. */
function routeOf(name: string): Type {
  @Controller('sse')
  class NameController {
    @Get(name)
    @SseConnection<Query>({ name, clientId: (req) => req.query.id, user: (req) => req.query.user })
    open(): void {}
  }
  return NameController;
}

const options = scaleOptions();
const transport = new RedisTransport(transportOptions(options) as ConstructorParameters<typeof RedisTransport>[0]);

@Module({ imports: [SseModule.forRoot({ transport })], controllers: options.names.map(routeOf) })
class InstanceModule {}

const app = await NestFactory.create(InstanceModule, new ExpressAdapter(), { logger: ['error'] });
await app.listen(0, '127.0.0.1');
const hub = app.get(SseHub);

let cpuMark = process.cpuUsage();
let readsMark = transport.reads();

serve(async (request) => {
  switch (request.type) {
    case 'connections':
      return { connections: hub.stats().connections };
    case 'mark':
      cpuMark = process.cpuUsage();
      readsMark = transport.reads();
      return {};
    case 'since-mark': {
      const { user, system } = process.cpuUsage(cpuMark);
      const reads = transport.reads();
      return { cpuMicros: user + system, messages: reads.messages - readsMark.messages, bytes: reads.bytes - readsMark.bytes };
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
