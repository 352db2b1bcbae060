import net from 'node:net';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasBaseline } from './baseline.js';
import type { SubjectSpec } from './subjects/index.js';

function redisAnswers(): Promise<boolean> {
  const { hostname, port } = new URL(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
  return new Promise((resolve) => {
    const socket = net.connect(Number(port || 6379), hostname);
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** Why a subject cannot be measured on this tree and machine, or undefined when it can. */
export async function unavailable(subject: SubjectSpec): Promise<string | undefined> {
  if (subject.needs === 'baseline' && !hasBaseline()) return 'no baseline: run with --baseline <git-rev>';
  if (subject.needs === 'fastify-platform') {
    try {
      import.meta.resolve('@nestjs/platform-fastify');
    } catch {
      return '@nestjs/platform-fastify is not installed (the Fastify platform has not landed on this tree)';
    }
  }
  if (subject.needs === 'redis-transport') {
    if (!existsSync(fileURLToPath(new URL('../lib/redis.js', import.meta.url)))) {
      return 'lib/redis.ts does not exist (the Redis transport has not landed on this tree)';
    }
    try {
      import.meta.resolve('ioredis');
    } catch {
      return 'ioredis is not installed';
    }
    if (!(await redisAnswers())) return `no Redis answers at ${process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'}`;
  }
  return undefined;
}
