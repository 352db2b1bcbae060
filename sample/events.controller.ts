import { Controller, Get, Header } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { SseConnection, SseContext, SseHub } from '../lib/index.js';
import { EVENTS } from './sample.constants.js';
import { roomOf } from './sample-input.js';

/** The page's event streams. */
@Controller()
export class EventsController {
  constructor(private readonly hub: SseHub) {}

  /**
   * A fresh client id. The page offers it as `/events?clientId=` because
   * EventSource cannot set headers and reconnects to the same URL: with the id
   * in the URL, every reconnect (and replay) is for the same client.
   */
  @Get('events/client-id')
  @Header('Cache-Control', 'no-store')
  clientId(): { clientId: string } {
    return { clientId: this.hub.newClientId() };
  }

  /**
   * Each tab's global connection, in the group of its chat room. It stays open
   * after this handler returns; the clock job, the chat and notifications
   * reach it through `SseHub`.
   */
  @Get('events')
  @SseConnection({ name: EVENTS, group: roomOf })
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
