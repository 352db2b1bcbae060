import { Injectable } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { SseHub } from '../lib/index.js';

/** Pode's first SSE example: a scheduled job pushes the time to every `events` client. */
@Injectable()
export class ClockService {
  constructor(private readonly hub: SseHub) {}

  @Cron(CronExpression.EVERY_SECOND)
  async tick(): Promise<void> {
    await this.hub.send({ name: 'events' }, { event: 'clock', data: { now: new Date().toISOString() } });
  }
}
