import 'reflect-metadata';
import { Controller, Injectable, Module, Sse, type MessageEvent } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Observable, Subject } from 'rxjs';
import type { AddressInfo } from 'node:net';
import type { BenchSubject } from './subject.js';

/** One shared Subject; every `@Sse()` request subscribes to it (counted, to know who is reachable). */
@Injectable()
class Feed {
  readonly events = new Subject<MessageEvent>();
  subscribers = 0;
  readonly stream$ = new Observable<MessageEvent>((subscriber) => {
    this.subscribers++;
    const subscription = this.events.subscribe(subscriber);
    return () => {
      this.subscribers--;
      subscription.unsubscribe();
    };
  });
}

@Controller()
class FeedController {
  constructor(private readonly feed: Feed) {}

  @Sse('sse')
  sse(): Observable<MessageEvent> {
    return this.feed.stream$;
  }
}

@Module({ controllers: [FeedController], providers: [Feed] })
class FeedModule {}

/** Nest's built-in `@Sse()` on Express with a shared Subject: the way the Nest docs do it. */
export async function start(): Promise<BenchSubject> {
  const app = await NestFactory.create(FeedModule, new ExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const feed = app.get(Feed);
  return {
    port: (app.getHttpServer().address() as AddressInfo).port,
    connections: () => feed.subscribers,
    broadcast: (payload) => feed.events.next({ data: payload }),
    close: () => app.close(),
  };
}
