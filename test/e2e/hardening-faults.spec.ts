import net from 'node:net';
import { Controller, ForbiddenException, Get, Injectable, type LoggerService } from '@nestjs/common';
import { Observable } from 'rxjs';
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
import { platforms, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';

const SECRET_DETAIL = 'db password is hunter2';

@Controller()
class FaultyController {
  @Get('throws-after-start')
  @SseConnection({ name: 'faulty' })
  async throwsAfterStart(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'first' });
    throw new Error(SECRET_DETAIL);
  }

  @Get('http-error-after-start')
  @SseConnection({ name: 'faulty', scope: 'local' })
  async httpErrorAfterStart(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'first' });
    throw new ForbiddenException('no more for you');
  }

  @Get('observable-error')
  @SseConnection({ name: 'faulty', scope: 'local' })
  observableError() {
    return new Observable((subscriber) => {
      subscriber.next({ data: 'first' });
      setImmediate(() => subscriber.error(new TypeError(SECRET_DETAIL)));
    });
  }

  @Get('iterable-error')
  @SseConnection({ name: 'faulty', scope: 'local' })
  async *iterableError() {
    yield { data: 'first' };
    throw new RangeError(SECRET_DETAIL);
  }

  @Get('endless')
  @SseConnection({ name: 'endless', scope: 'local' })
  async *endless() {
    // Writes as fast as the socket takes it, until the client goes away.
    for (let i = 0; ; i++) yield { data: `${i} ${'x'.repeat(4096)}` };
  }

  @Get('lifecycle')
  @SseConnection({ name: 'lifecycle' })
  openLifecycle() {}

  @Get('big')
  @SseConnection({ name: 'big' })
  openBig() {}
}

@Injectable()
class FaultyListeners {
  connects = 0;
  disconnects = 0;

  @OnSseConnect('lifecycle')
  onConnect(_connection: SseConnectionInfo) {
    this.connects++;
    throw new Error('connect handler broke');
  }

  @OnSseDisconnect('lifecycle')
  async onDisconnect(_connection: SseConnectionInfo) {
    this.disconnects++;
    throw new Error('disconnect handler broke');
  }
}

/** Records errors the app logs, instead of printing them. */
class RecordingLogger implements LoggerService {
  readonly errors: string[] = [];
  log() {}
  warn() {}
  error(message: unknown, ...rest: unknown[]) {
    this.errors.push([message, ...rest].map(String).join(' '));
  }
}

/*
 * "Nothing throws anywhere": an unhandled rejection or uncaught exception in this
 * process fails the running test, because jest-circus listens for both on the real
 * process. (A listener of our own would not hear them: the `process` a test sees
 * is jest's copy. Checked by hand: a deliberate `void Promise.reject(...)` in a
 * test here fails that test.) Each test ends with a turn of the event loop so
 * that a late rejection is charged to the test that caused it.
 */

function waitForLifecycle(hub: SseHub, type: SseLifecycleEvent['type'], name: string): Promise<void> {
  return new Promise((resolve) => {
    const subscription = hub.events$.subscribe((event) => {
      if (event.type !== type || event.connection.name !== name) return;
      subscription.unsubscribe();
      resolve();
    });
  });
}

describe.each(platforms)('hardening: faults ($name)', (platform) => {
  let t: TestApp;
  let hub: SseHub;
  let logger: RecordingLogger;

  beforeAll(async () => {
    t = await startApp(platform, {
      // The 8 MB frame below must not trip slow-client protection (maxBufferedBytes) first.
      imports: [SseModule.forRoot({ keepAlive: 10, maxBufferedBytes: 64 * 1024 * 1024 })],
      controllers: [FaultyController],
      providers: [FaultyListeners],
    });
    hub = t.app.get(SseHub);
    logger = new RecordingLogger();
    t.app.useLogger(logger);
  });
  afterAll(() => t.close());
  beforeEach(() => {
    logger.errors.length = 0;
  });
  afterEach(async () => {
    // Give rejections that nobody handled the turn they need to be reported.
    await new Promise((resolve) => setImmediate(resolve));
  });

  it.each([
    ['a handler that throws an Error', '/throws-after-start', 'Internal server error'],
    ['a handler that throws an HttpException', '/http-error-after-start', 'no more for you'],
    ['an Observable that errors', '/observable-error', 'Internal server error'],
    ['an AsyncIterable that throws', '/iterable-error', 'Internal server error'],
  ])('%s after the stream started → sse.error with the message only, then a clean end', async (_what, path, message) => {
    const client = await SseClient.open(`${t.url}${path}`);
    expect(client.status).toBe(200);
    await client.end();
    expect(client.events.map((event) => event.event ?? 'message')).toEqual(['sse.open', 'message', 'sse.error']);
    const error = client.eventsOf('sse.error')[0];
    expect(JSON.parse(error.data)).toEqual({ message });
    // No stack, no internal detail on the wire.
    expect(error.data).not.toContain(SECRET_DETAIL);
    expect(error.data).not.toMatch(/\bat .*:\d+/);
    expect(await hub.count()).toBe(0);
  });

  it('errors in @OnSseConnect / @OnSseDisconnect (sync and async) are logged and contained', async () => {
    const listeners = t.app.get(FaultyListeners);
    const client = await SseClient.open(`${t.url}/lifecycle`);
    const { clientId } = await client.opened();
    expect(listeners.connects).toBe(1);
    // The connection is unaffected.
    expect(await hub.send({ name: 'lifecycle', clientId }, { data: 'still here' })).toEqual({ delivered: 1 });
    expect((await client.next('message')).data).toBe('still here');
    const gone = waitForLifecycle(hub, 'disconnect', 'lifecycle');
    client.close();
    await gone;
    await new Promise((resolve) => setImmediate(resolve));
    expect(listeners.disconnects).toBe(1);
    expect(logger.errors.join('\n')).toMatch(/FaultyListeners\.onConnect\(\) threw; the connection is not affected/);
    expect(logger.errors.join('\n')).toMatch(/FaultyListeners\.onDisconnect\(\) threw; the connection is not affected/);
    // The app still serves.
    const next = await SseClient.open(`${t.url}/lifecycle`);
    await next.opened();
    next.close();
  });

  it('a client that resets its socket in the middle of a large frame: nothing throws, it is removed', async () => {
    const socket = net.connect({ port: Number(new URL(t.url).port), host: '127.0.0.1' });
    const gone = waitForLifecycle(hub, 'disconnect', 'big');
    let received = 0;
    let sent: Promise<unknown> | undefined;
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (!sent && chunk.includes('event: sse.open')) {
          // 8 MB in one frame: the socket cannot take it in one go.
          sent = hub.send({ name: 'big' }, { data: 'y'.repeat(8 * 1024 * 1024) });
        } else if (sent && received > 64 * 1024) {
          socket.resetAndDestroy();
          resolve();
        }
      });
      socket.write('GET /big HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n');
    });
    await expect(sent).resolves.toEqual({ delivered: 1 });
    await gone;
    // Sends to the departed client resolve with nobody to deliver to.
    await expect(hub.send({ name: 'big' }, { data: 'late' })).resolves.toEqual({ delivered: 0 });
    expect(await hub.count()).toBe(0);
  });

  it('a client that vanishes while its handler streams without pause: the handler stops, nothing throws', async () => {
    const client = await SseClient.open(`${t.url}/endless`);
    const gone = waitForLifecycle(hub, 'disconnect', 'endless');
    await client.collect('message', 20);
    client.close();
    await gone;
    expect(await hub.count()).toBe(0);
  });

  it('many clients vanishing at once while sends and keep-alives are in flight: nothing throws', async () => {
    const clients = await Promise.all(Array.from({ length: 30 }, () => SseClient.open(`${t.url}/big`)));
    await Promise.all(clients.map((client) => client.opened()));
    const allGone = new Promise<void>((resolve) => {
      let left = clients.length;
      const subscription = hub.events$.subscribe((event) => {
        if (event.type === 'disconnect' && --left === 0) {
          subscription.unsubscribe();
          resolve();
        }
      });
    });
    const sends: Array<Promise<unknown>> = [];
    clients.forEach((client, i) => {
      sends.push(hub.send({ name: 'big' }, { data: 'z'.repeat(256 * 1024) }));
      client.close();
      if (i % 5 === 0) sends.push(hub.close({ name: 'big' }));
    });
    await Promise.all(sends);
    await allGone;
    expect(await hub.count()).toBe(0);
    expect(await hub.names()).toEqual([]);
  });
});
