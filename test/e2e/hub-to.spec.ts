import { Controller, Get } from '@nestjs/common';
import { concat, from, of, Subject, throwError } from 'rxjs';
import { SseBroadcastLevelError, SseConnection, SseHub, SseInvalidArgumentError, SseModule } from '../../lib/index.js';
import { SseTestClient } from '../../lib/testing.js';
import { platforms, startApp, type TestApp } from '../support/app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { SwitchableTransport } from '../support/switchable-transport.js';

@Controller()
class PricesController {
  @Get('prices')
  @SseConnection({ name: 'prices' })
  prices() {}

  @Get('private')
  @SseConnection({ name: 'private' })
  private() {}
}

interface PriceEvents {
  price: { symbol: string; value: number };
}

// hub.to(): an RxJS Observer that pipes a stream of domain events into SSE.
describe.each(platforms)('SseHub.to() ($name)', (platform) => {
  let t: TestApp;
  let hub: SseHub;
  let logger: RecordingLogger;
  let transport: SwitchableTransport;
  const clients: SseTestClient<PriceEvents>[] = [];
  const connect = async () => {
    const client = await SseTestClient.connect<PriceEvents>(t.app, '/prices');
    clients.push(client);
    await client.opened();
    return client;
  };
  const errors = () => logger.lines.filter((line) => line.level === 'error').map((line) => line.message);

  beforeEach(async () => {
    logger = new RecordingLogger();
    transport = new SwitchableTransport();
    t = await startApp(
      platform,
      { imports: [SseModule.forRoot({ transport, broadcastLevels: { private: 'clientId' } })], controllers: [PricesController] },
      { logger },
    );
    hub = t.app.get(SseHub);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await t.close();
  });

  it('sends each value as the data of a typed event, in order', async () => {
    const client = await connect();
    from([1, 2, 3].map((value) => ({ symbol: 'ACME', value }))).subscribe(hub.to({ name: 'prices' }, { event: 'price' }));
    const prices = await client.collect('price', 3);
    expect(prices.map((event) => event.json().value)).toEqual([1, 2, 3]);
    // Every event got an id, so a reconnecting client can resume.
    expect(prices.every((event) => event.id !== undefined)).toBe(true);
  });

  it('lets toEvent build whole events', async () => {
    const client = await connect();
    of('a', 'b').subscribe(hub.to({ name: 'prices' }, { toEvent: (letter: string) => ({ event: 'price', id: `p-${letter}`, data: { symbol: letter, value: 0 } }) }));
    expect((await client.collect('price', 2)).map((event) => event.id)).toEqual(['p-a', 'p-b']);
  });

  it('logs and counts an Observable that errors, throws nothing into RxJS, and keeps what came before', async () => {
    const client = await connect();
    const prices = concat(of({ symbol: 'ACME', value: 1 }), throwError(() => new Error('feed crashed')));
    // Nothing escapes: no unhandled error, the subscription simply ends.
    const subscription = prices.subscribe(hub.to({ name: 'prices' }, { event: 'price' }));
    expect(subscription.closed).toBe(true);
    expect((await client.next('price')).json().value).toBe(1);
    expect(errors()).toEqual([expect.stringContaining('the stream to "prices" ended with an error: feed crashed')]);
    expect(hub.stats().streamErrors).toBe(1);
    // The hub goes on.
    await hub.send({ name: 'prices' }, { event: 'price', data: { symbol: 'ACME', value: 2 } });
    expect((await client.next('price')).json().value).toBe(2);
  });

  it('logs and counts a value that cannot be sent, and sends the ones after it', async () => {
    const client = await connect();
    const values = new Subject<unknown>();
    values.subscribe(hub.to({ name: 'prices' }, { event: 'price' }));
    values.next({ symbol: 'ACME', value: 1 });
    values.next({ symbol: 'ACME', value: 10n }); // a BigInt: no JSON for it
    values.next({ symbol: 'ACME', value: 3 });
    expect((await client.collect('price', 2)).map((event) => event.json().value)).toEqual([1, 3]);
    await logger.waitFor((line) => line.level === 'error');
    expect(errors()).toEqual([expect.stringMatching(/a value of the stream to "prices" was not sent: .*JSON/)]);
    expect(hub.stats()).toMatchObject({ streamErrors: 1, eventsSent: 2 });
    expect(values.observed).toBe(true);
  });

  it('logs a transport outage once, counts its lost values as transport errors, and delivers again after', async () => {
    const client = await connect();
    const values = new Subject<number>();
    values.subscribe(hub.to({ name: 'prices' }, { toEvent: (value) => ({ event: 'price', data: { symbol: 'ACME', value } }) }));
    transport.failing = true;
    for (const value of [1, 2, 3]) values.next(value);
    await logger.waitFor((line) => line.level === 'warn' && line.message.includes('are being lost'));
    transport.failing = false;
    values.next(4);
    expect((await client.next('price')).json().value).toBe(4);
    await logger.waitFor((line) => line.message.includes('is delivered again (3 value(s) lost)'));
    expect(logger.lines.filter((line) => line.message.includes('are being lost'))).toHaveLength(1);
    expect(hub.stats()).toMatchObject({ transportErrors: 3, streamErrors: 0, eventsSent: 1 });
    expect(client.eventsOf('price')).toHaveLength(1);
  });

  it('checks the target and options when called, not per value', () => {
    expect(() => hub.to({ name: '' })).toThrow(SseInvalidArgumentError);
    expect(() => hub.to({ name: 'prices' }, { event: 'sse.open' })).toThrow(SseInvalidArgumentError);
    expect(() => hub.to({ name: 'prices' }, { event: 'price', toEvent: (value) => ({ data: value }) })).toThrow(
      'SseHub.to() takes an event type or a toEvent function, not both',
    );
    expect(() => hub.to({ name: 'private' })).toThrow(SseBroadcastLevelError);
    expect(() => hub.to({ name: 'private', clientId: 'someone' })).not.toThrow();
  });
});
