import { Controller, ForbiddenException, Get, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { OnSseConnect, OnSseDisconnect, SseConnection, SseContext, SseModule, type SseConnectionInfo } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { deferred } from '../support/deferred.js';
import { nextLifecycle } from '../support/hub.js';
import { RawStream } from '../support/raw-http.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { eventLoopTurns, firstOf } from '../support/wait.js';

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
    try {
      for (let i = 0; ; i++) {
        endless.produce();
        yield { data: `${i} ${'x'.repeat(4096)}` };
      }
    } finally {
      endless.stopped.resolve();
    }
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

/** Turns of the event loop a handler may take to stop once the server saw its client leave (it needs two or three). */
const STOP_WITHIN_TURNS = 100;

/** What the endless handler did: stopped (right), or produced on after its client left (wrong). New for each test. */
let endless = newProbe();
function newProbe() {
  let produced = 0;
  const waiters: Array<{ at: number; resolve(): void }> = [];
  return {
    stopped: deferred(),
    produce() {
      produced++;
      for (const waiter of waiters.filter((w) => w.at === produced)) waiter.resolve();
    },
    /** Resolves once the handler has produced `count` more values from now on. */
    producedMore(count: number): Promise<void> {
      return new Promise((resolve) => waiters.push({ at: produced + count, resolve }));
    },
  };
}

/*
 * "Nothing throws anywhere": an unhandled rejection or uncaught exception in this
 * process fails the running test, because jest-circus listens for both on the real
 * process. (A listener of our own would not hear them: the `process` a test sees
 * is jest's copy. Checked by hand: a deliberate `void Promise.reject(...)` in a
 * test here fails that test.) Each test ends with a turn of the event loop so
 * that a late rejection is charged to the test that caused it.
 */

describe.each(platforms)('hardening: faults ($name)', (platform) => {
  const logger = new RecordingLogger();
  const t = useApp(
    platform,
    () => ({
      // The 8 MB frame below must not trip slow-client protection (maxBufferedBytes) first.
      imports: [SseModule.forRoot({ keepAlive: 10, maxBufferedBytes: 64 * 1024 * 1024 })],
      controllers: [FaultyController],
      providers: [FaultyListeners],
    }),
    { logger },
  );
  beforeEach(() => {
    logger.lines.length = 0;
    endless = newProbe();
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
    const client = await t.open(path);
    expect(client.status).toBe(200);
    await client.end();
    expect(client.events.map((event) => event.event ?? 'message')).toEqual(['sse.open', 'message', 'sse.error']);
    const error = client.eventsOf('sse.error')[0];
    expect(JSON.parse(error.data)).toEqual({ message });
    // No stack, no internal detail on the wire.
    expect(error.data).not.toContain(SECRET_DETAIL);
    expect(error.data).not.toMatch(/\bat .*:\d+/);
    expect(await t.hub.count()).toBe(0);
  });

  it('errors in @OnSseConnect / @OnSseDisconnect (sync and async) are logged and contained', async () => {
    const listeners = t.get(FaultyListeners);
    const { client, clientId } = await t.connect('/lifecycle');
    expect(listeners.connects).toBe(1);
    // The connection is unaffected.
    expect(await t.hub.send({ name: 'lifecycle', clientId }, { data: 'still here' })).toEqual({ delivered: 1 });
    expect((await client.next('message')).data).toBe('still here');
    const gone = nextLifecycle(t.hub, 'disconnect', { name: 'lifecycle' });
    client.close();
    await gone;
    const loggedDisconnect = logger.waitFor((line) => line.level === 'error' && line.message.includes('onDisconnect'));
    expect(listeners.disconnects).toBe(1);
    expect(logger.errorsContaining('FaultyListeners.onConnect() threw; the connection is not affected')).toHaveLength(1);
    expect((await loggedDisconnect).message).toMatch(/FaultyListeners\.onDisconnect\(\) threw; the connection is not affected/);
    // The app still serves.
    await t.connect('/lifecycle');
  });

  it('a client that resets its socket in the middle of a large frame: nothing throws, it is removed', async () => {
    // A bare socket: node:http cannot reset mid-frame.
    const raw = RawStream.open(`${t.url}/big`, { keepBytes: false });
    const gone = nextLifecycle(t.hub, 'disconnect', { name: 'big' });
    await raw.next('sse.open');
    // 8 MB in one frame: the socket cannot take it in one go.
    const sent = t.hub.send({ name: 'big' }, { data: 'y'.repeat(8 * 1024 * 1024) });
    await raw.waitFor(() => raw.bytes > 64 * 1024, 'the first 64 KB of the frame');
    raw.reset();
    expect(raw.events.map((e) => e.event ?? 'message')).toEqual(['sse.open']);
    await expect(sent).resolves.toEqual({ delivered: 1 });
    await gone;
    // Sends to the departed client resolve with nobody to deliver to.
    await expect(t.hub.send({ name: 'big' }, { data: 'late' })).resolves.toEqual({ delivered: 0 });
    expect(await t.hub.count()).toBe(0);
  });

  it('a client that vanishes while its handler streams without pause: the handler stops, nothing throws', async () => {
    const client = await t.open('/endless');
    const gone = nextLifecycle(t.hub, 'disconnect', { name: 'endless' });
    await client.collect('message', 20);
    client.close();
    await gone;
    // Stopped (its iterator returned), not running on, nor left suspended: a few turns of the loop decide.
    const outcome = await firstOf({
      stopped: endless.stopped.promise,
      'the handler ran on after its client left': endless.producedMore(50),
      'the handler was left suspended, never returned': eventLoopTurns(STOP_WITHIN_TURNS),
    });
    expect(outcome).toBe('stopped');
  });

  it('many clients vanishing at once while sends and keep-alives are in flight: nothing throws', async () => {
    const clients = (await Promise.all(Array.from({ length: 30 }, () => t.connect('/big')))).map(({ client }) => client);
    const allGone = new Promise<void>((resolve) => {
      let left = clients.length;
      const subscription = t.hub.events$.subscribe((event) => {
        if (event.type === 'disconnect' && --left === 0) {
          subscription.unsubscribe();
          resolve();
        }
      });
    });
    const sends: Array<Promise<unknown>> = [];
    clients.forEach((client, i) => {
      sends.push(t.hub.send({ name: 'big' }, { data: 'z'.repeat(256 * 1024) }));
      client.close();
      if (i % 5 === 0) sends.push(t.hub.close({ name: 'big' }));
    });
    await Promise.all(sends);
    await allGone;
    expect(await t.hub.count()).toBe(0);
    expect(await t.hub.names()).toEqual([]);
  });
});
