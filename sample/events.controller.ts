import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseContext } from '../lib/index.js';

@Controller()
export class EventsController {
  /** A global connection: stays open, reached by the clock job. */
  @Get('events')
  @SseConnection({ name: 'events' })
  events(): void {}

  /** Pode's second SSE example: a local connection that sends a few events and closes by itself. */
  @Get('countdown')
  @SseConnection({ name: 'countdown', scope: 'local' })
  async countdown(@SseContext() ctx: SseContext): Promise<void> {
    for (let n = 3; n > 0; n--) {
      await ctx.send({ event: 'countdown', data: n });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
