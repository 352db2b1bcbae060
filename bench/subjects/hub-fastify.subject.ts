import type { AbstractHttpAdapter } from '@nestjs/core';
import { startHub } from './hub-app.js';
import type { BenchSubject } from './subject.js';

// Loaded by name so that the bench builds where the Fastify platform is not installed yet.
const FASTIFY_PLATFORM = '@nestjs/platform-fastify';

/** This library on Fastify, memory transport. */
export async function start(): Promise<BenchSubject> {
  const { FastifyAdapter } = (await import(FASTIFY_PLATFORM)) as { FastifyAdapter: new () => AbstractHttpAdapter };
  return startHub(new FastifyAdapter());
}
