/**
 * The publisher-only worker of a scale-out run: a Nest application context
 * (no HTTP server) with `RedisTransport`, sending what the orchestrator's
 * plan says with many sends in flight, numbering each target's events so
 * that clients can count losses and duplicates.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SseHub, SseModule } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';
import { serve } from '../ipc.js';
import { makePayload } from '../payload.js';
import { scaleOptions, transportOptions } from './scale-options.js';
import { targetOf, type SendPlan } from './scale-plan.js';

const options = scaleOptions();
const transport = new RedisTransport(transportOptions(options) as ConstructorParameters<typeof RedisTransport>[0]);

@Module({ imports: [SseModule.forRoot({ transport })] })
class PublisherModule {}

const context = await NestFactory.createApplicationContext(PublisherModule, { logger: ['error'] });
const hub = context.get(SseHub);
/** Next sequence number per target key; continues across phases, as the clients' counts do. */
const sequences = new Map<string, number>();

/** What one phase did. */
interface PhaseResult {
  sends: number;
  seconds: number;
  sendsPerSecond: number;
  cpuMicrosPerSend: number;
  errors: number;
  errorSample: string;
}

function run(plan: SendPlan): Promise<PhaseResult> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let issued = 0;
  let settled = 0;
  let errors = 0;
  let errorSample = '';
  return new Promise((resolve) => {
    const finish = () => {
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      resolve({ sends: settled, seconds, sendsPerSecond: settled / seconds, cpuMicrosPerSend: (used.user + used.system) / Math.max(1, settled), errors, errorSample });
    };
    const onSettled = () => {
      settled++;
      if (settled === plan.total) finish();
      else pump();
    };
    const onError = (error: unknown) => {
      errors++;
      errorSample ||= String(error);
      onSettled();
    };
    // Due so far: all of them in a burst, else as many as the rate allows by now.
    const due = () => (plan.rate > 0 ? Math.min(plan.total, Math.floor(((performance.now() - started) / 1000) * plan.rate) + 1) : plan.total);
    // Sends issued in one turn leave in one script call per name (the transport batches them).
    function pump(): void {
      const limit = Math.min(due(), settled + plan.window);
      for (; issued < limit; issued++) {
        const { target, key } = targetOf(plan, issued);
        const seq = sequences.get(key) ?? 0;
        sequences.set(key, seq + 1);
        hub.send(target, { data: makePayload(seq) }).then(onSettled, onError);
      }
    }
    if (plan.total === 0) return finish();
    pump();
    if (plan.rate > 0) {
      const timer = setInterval(() => {
        pump();
        if (issued >= plan.total) clearInterval(timer);
      }, 2);
    }
  });
}

serve(async (request) => {
  switch (request.type) {
    case 'run':
      return { ...(await run(request.plan as SendPlan)) };
    case 'stop':
      await context.close();
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error(`unknown request ${request.type}`);
  }
});
process.send?.({ type: 'ready' });
