import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseModule } from '../../lib/index.js';
import { platforms, useApp, useApps } from '../support/app.js';
import type { SseClient } from '../support/sse-client.js';

// Streams gzipped by the library (`compression`): read over node:http and a
// streaming gunzip, as a browser decodes them.

@Controller()
class CompressionController {
  @Get('zipped')
  @SseConnection({ name: 'zipped', compression: true })
  zipped() {}

  @Get('plain')
  @SseConnection({ name: 'plain' })
  plain() {}

  @Get('never')
  @SseConnection({ name: 'never', compression: false })
  never() {}
}

const GZIP = { 'accept-encoding': 'gzip, deflate, br' };

/** A dashboard tick: the repetitive JSON the option is for. */
const tick = (i: number) => ({
  seq: i,
  rows: Array.from({ length: 10 }, (_, row) => ({ symbol: `SYM${row}`, price: 100 + row + i / 100, currency: 'USD', open: true })),
});

/**
 * Sends `count` events to the client one at a time: each must have been
 * decoded by the client before the next is sent. A compressor that held a
 * block back would fail at the first event (the wait's bound is generous only
 * because the machine is shared; it is never what passes the test).
 */
async function sendOneByOne(t: { hub: { send: (...args: any[]) => Promise<unknown> } }, client: SseClient, name: string, count: number) {
  for (let i = 0; i < count; i++) {
    const from = client.events.length;
    await t.hub.send({ name }, { data: tick(i) });
    const event = await client.waitFor(
      () => client.events.slice(from).find((e) => e.event === undefined),
      `event ${i} of a compressed stream, decoded before the next is sent`,
    );
    expect(JSON.parse(event.data).seq).toBe(i);
  }
}

describe.each(platforms)('compression ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [CompressionController] }));

  it('gzips the stream of a client that accepts gzip, and each event is decoded as it is sent', async () => {
    const { client } = await t.connect('/zipped', { headers: GZIP });
    expect(client.headers['content-encoding']).toBe('gzip');
    expect(client.headers['content-type']).toBe('text/event-stream');
    expect(client.headers['content-length']).toBeUndefined();
    await sendOneByOne(t, client, 'zipped', 5);
    // A whole gzip member: the trailer's CRC-32 and length check out when the server ends it.
    await t.hub.close({ name: 'zipped' });
    await client.end();
    expect(client.decodingError).toBeUndefined();
    expect(client.eventsOf('sse.close')).toHaveLength(1);
  });

  it.each([
    ['no Accept-Encoding', {}],
    ['Accept-Encoding without gzip', { 'accept-encoding': 'br, deflate' }],
    ['gzip;q=0', { 'accept-encoding': 'gzip;q=0, *' }],
  ])('leaves the stream plain for a client with %s', async (_what, headers) => {
    const { client } = await t.connect('/zipped', { headers });
    expect(client.headers['content-encoding']).toBeUndefined();
    await sendOneByOne(t, client, 'zipped', 2);
  });

  it('leaves a route without compression plain, whatever the client accepts', async () => {
    const { client } = await t.connect('/plain', { headers: GZIP });
    expect(client.headers['content-encoding']).toBeUndefined();
    await sendOneByOne(t, client, 'plain', 2);
  });

  it('sends a broadcast to compressed and plain clients alike; the compressed ones read fewer bytes off the wire', async () => {
    const zipped = await Promise.all([1, 2, 3].map(() => t.connect('/zipped', { headers: GZIP })));
    const plain = await t.connect('/zipped');
    for (let i = 0; i < 20; i++) await t.hub.send({ name: 'zipped' }, { data: tick(i) });
    for (const { client } of [...zipped, plain]) await client.collect('message', 20);
    for (const { client } of zipped) {
      expect(client.dataOf()).toEqual(plain.client.dataOf());
      expect(client.wireBytes).toBeLessThan(plain.client.wireBytes / 2);
    }
  });
});

describe.each(platforms)('compression as a module option ($name)', (platform) => {
  const apps = useApps(platform);

  it("applies to every route; a route's compression: false wins", async () => {
    const t = await apps.start({ imports: [SseModule.forRoot({ compression: true, keepAlive: 0 })], controllers: [CompressionController] });
    const plainRoute = await t.connect('/plain', { headers: GZIP });
    const never = await t.connect('/never', { headers: GZIP });
    expect(plainRoute.client.headers['content-encoding']).toBe('gzip');
    expect(never.client.headers['content-encoding']).toBeUndefined();
    await sendOneByOne(t, plainRoute.client, 'plain', 2);
  });

  it('compresses keep-alive comments too', async () => {
    const t = await apps.start({ imports: [SseModule.forRoot({ compression: true, keepAlive: 50 })], controllers: [CompressionController] });
    const { client } = await t.connect('/plain', { headers: GZIP });
    expect(client.headers['content-encoding']).toBe('gzip');
    await client.waitFor(() => client.comments.length >= 2, 'two pings through gunzip');
    expect(new Set(client.comments)).toEqual(new Set(['ping']));
  });

  it('ends compressed streams as whole gzip members at shutdown', async () => {
    const t = await apps.start({ imports: [SseModule.forRoot({ compression: true, keepAlive: 0 })], controllers: [CompressionController] });
    const { client } = await t.connect('/plain', { headers: GZIP });
    await t.close();
    await client.end();
    expect(client.decodingError).toBeUndefined();
    expect(JSON.parse((await client.next('sse.close')).data)).toMatchObject({ reason: 'shutdown' });
  });
});
