import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { SseHub } from '../lib/index.js';
import { EVENTS } from './sample.constants.js';
import type { SampleEvents, ServerStats } from './events.js';

const MiB = 1024 * 1024;

/** Pode's first SSE example: a scheduled job pushes the time (and a few stats) to every page. */
@Injectable()
export class ClockService {
  constructor(private readonly hub: SseHub<SampleEvents>) {}

  @Cron(CronExpression.EVERY_SECOND)
  async tick(): Promise<void> {
    const [connections, rooms] = await Promise.all([this.hub.count({ name: EVENTS }), this.hub.groups(EVENTS)]);
    const stats: ServerStats = {
      now: new Date().toISOString(),
      uptimeSeconds: Math.round(process.uptime()),
      connections,
      rooms: rooms.sort(),
      rssMiB: Math.round(process.memoryUsage().rss / MiB),
    };
    // A returning page wants the time now, not every tick it missed: only the newest is kept for replay.
    await this.hub.send({ name: EVENTS }, { event: 'clock', data: stats, replay: 'latest' });
  }
}
