import { Controller, Get, Injectable } from '@nestjs/common';
import { SseConnection, SseContext, SseHub } from '../../lib/index.js';
import { connect } from '../../lib/client.js';

// One event map for both ends: what the server may send and what the browser receives.
export type ChatEvents = { chat: { text: string }; clock: { now: number }; message: string };

@Injectable()
export class TypedSender {
  constructor(private readonly hub: SseHub<ChatEvents>) {}

  async sends(): Promise<void> {
    await this.hub.send({ name: 'events' }, { event: 'chat', data: { text: 'hi' } });
    await this.hub.send({ name: 'events', group: 'red' }, [
      { event: 'clock', data: { now: 1 }, replay: 'latest' },
      { data: 'a message event carries a string' },
    ]);
    // @ts-expect-error the payload of "chat" is { text: string }
    await this.hub.send({ name: 'events' }, { event: 'chat', data: { now: 1 } });
    // @ts-expect-error an event type the map does not declare
    await this.hub.send({ name: 'events' }, { event: 'typo', data: { text: 'hi' } });
    // @ts-expect-error a "message" event (no type) carries a string here
    await this.hub.send({ name: 'events' }, { data: 42 });
    // @ts-expect-error replay is true, false or 'latest'
    await this.hub.send({ name: 'events' }, { event: 'clock', data: { now: 1 }, replay: 'newest' });
    // @ts-expect-error one wrong event in a batch
    await this.hub.send({ name: 'events' }, [{ event: 'chat', data: { text: 'ok' } }, { event: 'clock', data: { text: 'no' } }]);
  }
}

@Controller()
export class TypedController {
  @Get('events')
  @SseConnection({ name: 'events' })
  async open(@SseContext() ctx: SseContext<ChatEvents>): Promise<void> {
    await ctx.send({ event: 'clock', data: { now: Date.now() } });
    // @ts-expect-error the payload of "clock" is { now: number }
    await ctx.send({ event: 'clock', data: { now: 'now' } });
  }
}

/** Without a map, sends stay as free as ever. */
export async function untyped(hub: SseHub, ctx: SseContext): Promise<void> {
  await hub.send({ name: 'x' }, { event: 'anything', data: { any: 'shape' } });
  await ctx.send([{ data: 1 }, { event: 'other', data: 'text', replay: false }]);
}

export function browser(): void {
  const events = connect<ChatEvents>('/events');
  events.on('chat', (data) => data.text.toUpperCase());
  events.on('clock', (data, event) => data.now + event.lastEventId.length);
  events.on('message', (data) => data.toUpperCase());
  // @ts-expect-error "chat" data has no "now"
  events.on('chat', (data) => data.now);
  // @ts-expect-error an event type the map does not declare
  events.on('typo', () => undefined);
  // @ts-expect-error the handler expects a number where "clock" gives an object
  events.on('clock', (data: number) => data);

  const loose = connect('/events');
  loose.on('anything', (data) => data);
}

/** A typed hub is still an SseHub (and back): the map types sends, not the instance. */
export function assignable(typed: SseHub<ChatEvents>, plain: SseHub): [SseHub, SseHub<ChatEvents>] {
  return [typed, plain];
}
