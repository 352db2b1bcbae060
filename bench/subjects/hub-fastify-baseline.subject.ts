import type { AbstractHttpAdapter } from '@nestjs/core';
import { loadBaseline } from '../baseline.js';
import { startHub, type HubLibrary } from './hub-app.js';
import type { BenchSubject } from './subject.js';

// Loaded by name, as in hub-fastify.subject.ts.
const FASTIFY_PLATFORM = '@nestjs/platform-fastify';

/** The baseline revision's library (`--baseline <git-rev>`) on Fastify, memory transport. */
export async function start(): Promise<BenchSubject> {
  const { FastifyAdapter } = (await import(FASTIFY_PLATFORM)) as { FastifyAdapter: new () => AbstractHttpAdapter };
  return startHub(new FastifyAdapter(), {}, await loadBaseline<HubLibrary>());
}
