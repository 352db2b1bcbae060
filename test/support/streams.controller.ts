import { Controller, Get } from '@nestjs/common';
import { SseConnection } from '../../lib/index.js';
import { queryParam } from './request-params.js';

/** Two global names, `events` and `news`, each grouped by the `group` query parameter (none without it). */
@Controller()
export class EventsAndNewsController {
  @Get('events')
  @SseConnection({ name: 'events', group: (req) => queryParam(req, 'group') })
  events() {}

  @Get('news')
  @SseConnection({ name: 'news', group: (req) => queryParam(req, 'group') })
  news() {}
}
