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
}

/** The yardstick every ratio is taken against. */
export const YARDSTICK = 'node-http';

export const SUBJECTS: SubjectSpec[] = [
  { key: 'node-http', label: 'node:http (yardstick)', file: 'node-http', instances: 1 },
  { key: 'nest-sse', label: 'Nest @Sse() + Subject', file: 'nest-sse', instances: 1 },
  { key: 'better-sse', label: 'better-sse channel', file: 'better-sse', instances: 1 },
  { key: 'hub-express', label: 'nestjs-sse-hub, Express', file: 'hub-express', instances: 1 },
  // Once the Fastify platform lands: a copy of hub-express.subject.ts with FastifyAdapter, then
  // { key: 'hub-fastify', label: 'nestjs-sse-hub, Fastify', file: 'hub-fastify', instances: 1 },
  // Once the Redis transport lands: hub-express with the Redis transport, then
  // { key: 'hub-redis', label: 'nestjs-sse-hub, Redis ×2', file: 'hub-redis', instances: 2 },
];
