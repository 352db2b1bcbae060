import { BadRequestException, Body, Controller, Post } from '@nestjs/common';
import { SseHub, type SseSendResult } from '../lib/index.js';
import { EVENTS, MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from './sample.constants.js';
import { requireText } from './sample-input.js';
import type { SampleEvents } from './events.js';

/** Private notifications: to exactly one client id, or to every tab of one user. */
@Controller('api/notifications')
export class NotificationsController {
  constructor(private readonly hub: SseHub<SampleEvents>) {}

  /**
   * Sends `{ text }` to the connection with `clientId`, or to every
   * connection of `user` (on every instance); `delivered` is 0 when none is
   * connected (it is kept for replay all the same).
   */
  @Post()
  async notify(@Body() body: unknown): Promise<SseSendResult> {
    const text = requireText(body, 'text', MAX_TEXT_LENGTH);
    const given = (body ?? {}) as { clientId?: unknown; user?: unknown };
    if ((given.clientId === undefined) === (given.user === undefined)) throw new BadRequestException('give either "clientId" or "user"');
    const to = given.user !== undefined ? { user: requireText(body, 'user', MAX_NAME_LENGTH) } : { clientId: requireText(body, 'clientId', 256) };
    return this.hub.send({ name: EVENTS, ...to }, { event: 'notice', data: { text, at: new Date().toISOString() } });
  }
}
