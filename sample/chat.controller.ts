import { BadRequestException, Body, Controller, Post } from '@nestjs/common';
import { SseContext, SseHub, type SseSendResult } from '../lib/index.js';
import { MAX_TEXT_LENGTH } from './sample.constants.js';
import { requireText } from './sample-input.js';

/** Chat rooms: a message goes to the sender's room (its connection's group) only. */
@Controller('api/chat')
export class ChatController {
  constructor(private readonly hub: SseHub) {}

  /**
   * An ordinary POST that names its sender's open connection with the
   * `X-Sse-Client-Id` and `X-Sse-Name` headers (`@SseContext()` answers 400 /
   * 404 when they do not name one), so the room comes from the server's
   * record, not from what the body claims.
   */
  @Post()
  async post(@SseContext() sender: SseContext, @Body() body: unknown): Promise<SseSendResult> {
    const text = requireText(body, 'text', MAX_TEXT_LENGTH);
    if (sender.group === undefined) throw new BadRequestException('this connection has not joined a room');
    return this.hub.send(
      { name: sender.name, group: sender.group },
      { event: 'chat', data: { room: sender.group, from: sender.clientId, text, at: new Date().toISOString() } },
    );
  }
}
