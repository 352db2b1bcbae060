import { Controller, Get } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { SseConnection, SseContext, type SseRequest } from '../lib/index.js';
import { EVENTS } from './sample.constants.js';
import { roomOf, userOf } from './sample-input.js';

/** The page's event streams. */
@Controller()
export class EventsController {
  /**
   * Each tab's global connection: in the group of its first chat room (it
   * joins and leaves others at run time, see RoomsController), and its
   * user's when signed in. It stays open after this handler returns; the
   * clock job, the chat and notifications reach it through `SseHub`. The
   * page's client offers its client id and last event id on every reconnect,
   * so nothing is needed here to keep them.
   */
  @Get('events')
  @SseConnection<SseRequest>({ name: EVENTS, group: roomOf, user: userOf })
  events(): void {}

  /** Pode's second SSE example: a local connection that counts down, then closes by itself. */
  @Get('countdown')
  @SseConnection({ name: 'countdown', scope: 'local' })
  async countdown(@SseContext() ctx: SseContext): Promise<void> {
    for (let n = 3; n > 0; n--) {
      await ctx.send({ event: 'countdown', data: n });
      await sleep(1000);
    }
    await ctx.send({ event: 'countdown', data: 'liftoff' });
    // Returning ends a local connection: the library sends sse.close and ends the response.
  }
}
