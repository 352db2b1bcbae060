import { Body, Controller, Post } from '@nestjs/common';
import { SseHub, type SseSendResult } from '../lib/index.js';
import { EVENTS, MAX_TEXT_LENGTH } from './sample.constants.js';
import { requireText } from './sample-input.js';

/** Private notifications: one event to exactly one client id. */
@Controller('api/notifications')
export class NotificationsController {
  constructor(private readonly hub: SseHub) {}

  /** Sends `{ text }` to the connection with `clientId`; `delivered` is 0 when it is not connected. */
  @Post()
  async notify(@Body() body: unknown): Promise<SseSendResult> {
    const clientId = requireText(body, 'clientId', 256);
    const text = requireText(body, 'text', MAX_TEXT_LENGTH);
    return this.hub.send({ name: EVENTS, clientId }, { event: 'notice', data: { text, at: new Date().toISOString() } });
  }
}
