import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { SseContext } from '../lib/index.js';
import { requireRoom } from './sample-input.js';

/**
 * Chat rooms joined and left at run time. Ordinary POSTs that name the
 * page's open connection with `X-Sse-Name` / `X-Sse-Client-Id`;
 * `@SseContext()` finds it (on any instance, with Redis) and changes its
 * groups: sends to a room reach it from the moment the POST is answered.
 */
@Controller('api/rooms')
export class RoomsController {
  @Post('join')
  @HttpCode(200)
  async join(@SseContext() page: SseContext, @Body() body: unknown): Promise<{ room: string }> {
    const room = requireRoom(body);
    await page.join(room);
    return { room };
  }

  @Post('leave')
  @HttpCode(200)
  async leave(@SseContext() page: SseContext, @Body() body: unknown): Promise<{ room: string }> {
    const room = requireRoom(body);
    await page.leave(room);
    return { room };
  }
}
