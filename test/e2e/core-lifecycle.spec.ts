import { Controller, Get, Injectable } from '@nestjs/common';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import {
  OnSseConnect,
  OnSseDisconnect,
  SseConnection,
  SseContext,
  SseHub,
  SseModule,
  type SseConnectionInfo,
  type SseLifecycleEvent,
} from '../../lib/index.js';
import { platforms, useApp, useApps } from '../support/app.js';
import { nextLifecycle } from '../support/hub.js';
import { SseClient } from '../support/sse-client.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { deferred } from '../support/deferred.js';
import { queryParam } from '../support/request-params.js';

@Controller()
class LifecycleController {
  @Get('events')
  @SseConnection({ name: 'events', group: (req) => queryParam(req, 'group') })
  events() {}

  @Get('news')
  @SseConnection({ name: 'news' })
  news() {}

  @Get('local')
  @SseConnection({ name: 'countdown', scope: 'local' })
  async local(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'started' });
    await new Promise<void>(() => undefined);
  }
}

/** A handler still pending (nothing sent yet) when shutdown begins; new for each test. */
let slow = { entered: deferred(), release: deferred() };

@Controller()
class SlowController {
  @Get('slow')
  @SseConnection({ name: 'slow', scope: 'local' })
  async slow(@SseContext() ctx: SseContext) {
    const { entered, release } = slow;
    entered.resolve();
    await release.promise;
    await ctx.send({ data: 'too late' }).catch(() => undefined);
    await new Promise<void>(() => undefined);
  }
}

/** Records what the lifecycle decorators deliver; some methods throw on purpose. */
@Injectable()
class LifecycleListeners {
  readonly seen: string[] = [];
  constructor(private readonly hub: SseHub) {}

  @OnSseConnect('events')
  onEventsConnect(connection: SseConnectionInfo) {
    this.seen.push(`connect events ${connection.clientId} ${connection.group ?? '-'}`);
    if (connection.clientId === 'sync-throw') throw new Error('boom (sync)');
  }

  @OnSseDisconnect('events')
  async onEventsDisconnect(connection: SseConnectionInfo) {
    this.seen.push(`disconnect events ${connection.clientId}`);
    if (connection.clientId === 'async-throw') throw new Error('boom (async)');
  }

  @OnSseConnect()
  onAnyConnect(connection: SseConnectionInfo) {
    this.seen.push(`connect any ${connection.name}`);
  }

  @OnSseDisconnect()
  onAnyDisconnect(connection: SseConnectionInfo) {
    this.seen.push(`disconnect any ${connection.name}`);
  }

  /** The usual welcome message: sent from the connect hook, so it must follow sse.open. */
  @OnSseConnect('news')
  async welcome(connection: SseConnectionInfo) {
    await this.hub.send({ name: 'news', clientId: connection.clientId }, { event: 'welcome', data: connection.clientId });
  }
}

describe.each(platforms)('lifecycle: decorators, events$, errors in listeners ($name)', (platform) => {
  const logger = new RecordingLogger();
  const t = useApp(
    platform,
    () => ({ imports: [SseModule.forRoot()], controllers: [LifecycleController], providers: [LifecycleListeners] }),
    { logger },
  );
  let listeners: LifecycleListeners;
  beforeAll(() => {
    listeners = t.get(LifecycleListeners);
  });
  afterEach(() => {
    listeners.seen.length = 0;
  });

  const disconnectOf = (clientId: string) => nextLifecycle(t.hub, 'disconnect', { clientId });

  it('@OnSseConnect / @OnSseDisconnect run for their name, unnamed ones for every name', async () => {
    const events = await t.connect('/events?clientId=a&group=red');
    await t.connect('/news?clientId=n');
    expect(listeners.seen).toEqual(expect.arrayContaining(['connect events a red', 'connect any events', 'connect any news']));
    expect(listeners.seen.filter((line) => line.startsWith('connect events'))).toEqual(['connect events a red']);

    const gone = disconnectOf('a');
    events.client.close();
    await gone;
    expect(listeners.seen).toEqual(expect.arrayContaining(['disconnect events a', 'disconnect any events']));
    expect(listeners.seen).not.toContain('disconnect any news');
  });

  it('events$ reports connect and disconnect with the connection info, for both scopes', async () => {
    // Only this test's connections: a previous test's client may still be leaving.
    const recorded = firstValueFrom(
      t.hub.events$.pipe(
        filter((e) => e.connection.clientId === 'g' || e.connection.name === 'countdown'),
        take(4),
        toArray(),
      ),
    );
    const global = await t.connect('/events?clientId=g&group=blue', { headers: { 'last-event-id': '7' } });
    const local = await t.connect('/local');
    await t.hub.close({ name: 'events', clientId: 'g' });
    local.client.close();
    const events: SseLifecycleEvent[] = await recorded;
    expect(events.map((e) => `${e.type} ${e.connection.name}`)).toEqual([
      'connect events',
      'connect countdown',
      'disconnect events',
      'disconnect countdown',
    ]);
    expect(events[0].connection).toMatchObject({
      name: 'events',
      group: 'blue',
      clientId: 'g',
      scope: 'global',
      lastEventId: '7',
    });
    expect(events[0].connection.connectedAt).toBeInstanceOf(Date);
    expect(events[1].connection).toMatchObject({ scope: 'local', clientId: local.clientId, group: undefined });
    await global.client.end();
  });

  it('a message sent from @OnSseConnect arrives after sse.open', async () => {
    const { client } = await t.connect('/news?clientId=w');
    await client.next('welcome');
    expect(client.events.map((e) => e.event)).toEqual(['sse.open', 'welcome']);
  });

  it('a listener that throws synchronously is logged and breaks nothing', async () => {
    const logged = logger.waitFor((line) => line.level === 'error' && line.message.includes('onEventsConnect'));
    const { client } = await t.connect('/events?clientId=sync-throw');
    const line = await logged;
    expect(line.message).toMatch(/^nestjs-sse-hub: LifecycleListeners\.onEventsConnect\(\) threw/);
    expect(line.rest).toContain('boom (sync)');
    // The other listeners still ran, and the connection works.
    expect(listeners.seen).toContain('connect any events');
    expect(await t.hub.send({ name: 'events', clientId: 'sync-throw' }, { data: 'still here' })).toEqual({ delivered: 1 });
    await client.next('message');
  });

  it('a listener whose promise rejects is logged and breaks nothing', async () => {
    const logged = logger.waitFor((line) => line.level === 'error' && line.message.includes('onEventsDisconnect'));
    const { client } = await t.connect('/events?clientId=async-throw');
    await t.hub.close({ name: 'events', clientId: 'async-throw' });
    await client.end();
    expect((await logged).rest).toContain('boom (async)');
    // The app still serves new connections.
    const next = await t.connect('/events?clientId=after');
    expect(next.clientId).toBe('after');
  });
});

describe.each(platforms)('shutdown with open connections ($name)', (platform) => {
  const apps = useApps(platform);

  it('app.close() resolves and every open client gets sse.close {"reason":"shutdown"}', async () => {
    const t = await apps.start({ imports: [SseModule.forRoot()], controllers: [LifecycleController] });
    const disconnects = firstValueFrom(t.hub.events$.pipe(filter((e) => e.type === 'disconnect'), take(3), toArray()));
    const clients = [
      (await t.connect('/events?clientId=a')).client,
      (await t.connect('/events?clientId=b&group=red')).client,
      (await t.connect('/local')).client,
    ];
    await clients[2].next('message');
    await t.close();
    for (const client of clients) {
      await client.end();
      expect(client.eventsOf('sse.close').map((e) => JSON.parse(e.data))).toEqual([{ reason: 'shutdown' }]);
    }
    expect((await disconnects).length).toBe(3);
  });

  it('a connection that opens after shutdown began is closed at once, so app.close() still resolves', async () => {
    slow = { entered: deferred(), release: deferred() };
    const t = await apps.start(
      { imports: [SseModule.forRoot()], controllers: [LifecycleController, SlowController] },
      { logger: new RecordingLogger() },
    );
    await t.connect('/events?clientId=witness');
    const opening = t.open('/slow');
    await slow.entered.promise;
    // The witness's disconnect tells that the shutdown's closeAll() has run.
    const shutdownRan = nextLifecycle(t.hub, 'disconnect', { clientId: 'witness' });
    const closing = t.close();
    await shutdownRan;
    slow.release.resolve();
    const late = await opening.catch((error: Error) => error);
    if (late instanceof SseClient) {
      await late.end();
      expect(late.events.map((e) => e.event ?? e.data)).toEqual(['sse.open', 'sse.close']);
      expect(JSON.parse(late.eventsOf('sse.close')[0].data)).toEqual({ reason: 'shutdown' });
    } else {
      // Fastify's close() resets the sockets of requests still in flight;
      // the browser treats that as a network error and reconnects.
      expect(platform.name).toBe('fastify');
      expect(late.message).toMatch(/ECONNRESET|socket hang up/);
    }
    await closing;
  });
});
