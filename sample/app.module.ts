import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { SseModule } from '../lib/index.js';
import { EventsController } from './events.controller.js';
import { ClockService } from './clock.service.js';

@Module({
  imports: [ScheduleModule.forRoot(), SseModule.forRoot({ retry: 2000 })],
  controllers: [EventsController],
  providers: [ClockService],
})
export class AppModule {}
