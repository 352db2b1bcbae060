/**
 * A server under test for the network bench: this library on Express,
 * Fastify or Fastify over HTTP/2 (h2c), with `compression` on or off,
 * serving GET /sse. On request it broadcasts `tickPayload` events, one per
 * event-loop turn or one every `intervalMs`, and reports its CPU and memory.
 * Run with --expose-gc.
 */
import type { AbstractHttpAdapter } from '@nestjs/core';
import { memory } from '../process-memory.js';
import { serve } from '../ipc.js';
import { startHub } from '../subjects/hub-app.js';
import { tickPayload } from './tick.js';

const [platform, compression] = process.argv.slice(2);

async function adapter(): Promise<AbstractHttpAdapter> {
  if (platform === 'express') {
    const { ExpressAdapter } = await import('@nestjs/platform-express');
    return new ExpressAdapter();
  }
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  return new FastifyAdapter(platform === 'fastify-h2c' ? { http2: true } : undefined);
}

const subject = await startHub(await adapter(), { compression: compression === 'on', keepAlive: 0 });
let cpuAtEmit = process.cpuUsage();

serve(async (request) => {
  switch (request.type) {
    case 'connections':
      return { connections: await subject.connections() };
    case 'memory':
      return memory();
    case 'emit': {
      cpuAtEmit = process.cpuUsage();
      const events = request.events as number;
      // 0: one event per event-loop turn (a burst); else one every intervalMs.
      const intervalMs = (request.intervalMs as number | undefined) ?? 0;
      let seq = 0;
      const turn = () => {
        subject.broadcast(tickPayload(seq++));
        if (seq < events) {
          if (intervalMs === 0) setImmediate(turn);
          else setTimeout(turn, intervalMs);
        }
      };
      turn();
      return {};
    }
    case 'cpu': {
      const { user, system } = process.cpuUsage(cpuAtEmit);
      return { cpuMicros: user + system };
    }
    case 'stop':
      await subject.close();
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error(`unknown request ${request.type}`);
  }
});
process.send?.({ type: 'ready', port: subject.port });
