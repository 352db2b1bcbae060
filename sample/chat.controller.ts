import { BadRequestException, Body, Controller, Post } from '@nestjs/common';
import { SseContext, SseHub, type SseSendResult } from '../lib/index.js';
import { MAX_TEXT_LENGTH } from './sample.constants.js';
import { requireRoom, requireText } from './sample-input.js';
import type { SampleEvents } from './events.js';

/** Chat rooms: a message goes to one room (group) its sender is in. */
@Controller('api/chat')
export class ChatController {
  constructor(private readonly hub: SseHub<SampleEvents>) {}

  /**
   * An ordinary POST that names its sender's open connection with the
   * `X-Sse-Client-Id` and `X-Sse-Name` headers (`@SseContext()` answers 400 /
   * 404 when they do not name one), so membership comes from the server's
   * record, not from what the body claims. `room` defaults to the sender's first room.
   */
  @Post()
  async post(@SseContext() sender: SseContext, @Body() body: unknown): Promise<SseSendResult> {
    const text = requireText(body, 'text', MAX_TEXT_LENGTH);
    const room = (body as { room?: unknown } | undefined)?.room === undefined ? sender.group : requireRoom(body);
    if (room === undefined || !sender.groups.includes(room)) throw new BadRequestException('this connection is not in that room');
    const message = { room, from: sender.clientId, user: sender.user, text, at: new Date().toISOString() };
    return this.hub.send({ name: sender.name, group: room }, { event: 'chat', data: message });
  }
}
