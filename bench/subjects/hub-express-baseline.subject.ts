import { ExpressAdapter } from '@nestjs/platform-express';
import { loadBaseline } from '../baseline.js';
import { startHub, type HubLibrary } from './hub-app.js';
import type { BenchSubject } from './subject.js';

/** The baseline revision's library (`--baseline <git-rev>`) on Express, memory transport. */
export async function start(): Promise<BenchSubject> {
  return startHub(new ExpressAdapter(), {}, await loadBaseline<HubLibrary>());
}
