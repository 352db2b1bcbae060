import { ExpressAdapter } from '@nestjs/platform-express';
import { startHub } from './hub-app.js';
import type { BenchSubject } from './subject.js';

/** This library on Express, memory transport. */
export function start(): Promise<BenchSubject> {
  return startHub(new ExpressAdapter());
}
