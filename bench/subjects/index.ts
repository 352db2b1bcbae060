/** The servers under test, in the order they appear in tables and charts. */
export interface SubjectSpec {
  /** Short key for --subjects. */
  key: string;
  /** Name in the results. */
  label: string;
  /** bench/subjects/<file>.subject.ts */
  file: string;
  /** Server processes; the load generator spreads clients over them, events are emitted on the first. */
  instances: number;
  /** Measured only where this is present (checked by bench/availability.ts). */
  needs?: 'fastify-platform' | 'redis-transport' | 'baseline';
}

/** The yardstick every ratio is taken against. */
export const YARDSTICK = 'node-http';

export const SUBJECTS: SubjectSpec[] = [
  { key: 'node-http', label: 'node:http (yardstick)', file: 'node-http', instances: 1 },
  { key: 'nest-sse', label: 'Nest @Sse() + Subject', file: 'nest-sse', instances: 1 },
  { key: 'better-sse', label: 'better-sse channel', file: 'better-sse', instances: 1 },
  { key: 'hub-express', label: 'nestjs-sse-hub, Express', file: 'hub-express', instances: 1 },
  { key: 'hub-fastify', label: 'nestjs-sse-hub, Fastify', file: 'hub-fastify', instances: 1, needs: 'fastify-platform' },
  { key: 'hub-redis', label: 'nestjs-sse-hub, Express, Redis ×2', file: 'hub-redis', instances: 2, needs: 'redis-transport' },
  // Only with --baseline <git-rev> (bench/baseline.ts); a subject's twin is its key + '-baseline'.
  { key: 'hub-express-baseline', label: 'nestjs-sse-hub, Express (baseline)', file: 'hub-express-baseline', instances: 1, needs: 'baseline' },
  {
    key: 'hub-fastify-baseline',
    label: 'nestjs-sse-hub, Fastify (baseline)',
    file: 'hub-fastify-baseline',
    instances: 1,
    needs: 'baseline',
  },
];
