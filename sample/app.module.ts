import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { SseModule } from '../lib/index.js';
import { sampleSseOptions } from './sse-options.js';
import { EventsController } from './events.controller.js';
import { ChatController } from './chat.controller.js';
import { NotificationsController } from './notifications.controller.js';
import { RoomsController } from './rooms.controller.js';
import { PageController } from './page.controller.js';
import { ClockService } from './clock.service.js';
import { AnswerController } from './answer.controller.js';

/** The sample app: one page with a live clock, a countdown, chat rooms joined at run time, private notifications, and a model's resumable answer. */
@Module({
  imports: [ScheduleModule.forRoot(), SseModule.forRootAsync({ useFactory: sampleSseOptions })],
  controllers: [PageController, EventsController, RoomsController, ChatController, NotificationsController, AnswerController],
  providers: [ClockService],
})
export class AppModule {}
