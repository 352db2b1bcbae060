import { Controller, Get, Injectable, Post } from '@nestjs/common';
import { Cron, ScheduleModule } from '@nestjs/schedule';
import { interval, map, Observable, of, take } from 'rxjs';
import {
  SseConnection,
  SseConnectionClosedError,
  SseContext,
  SseHub,
  SseModule,
  type SseEvent,
} from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { nextLifecycle } from '../support/hub.js';
import type { SseClient } from '../support/sse-client.js';
import { deferred, type Deferred } from '../support/deferred.js';
import { eventLoopTurns, firstOf } from '../support/wait.js';

/** Pode's first example: a scheduled job feeds every client of a global `events` connection. */
@Injectable()
class ClockJob {
  ticks = 0;
  constructor(private readonly hub: SseHub) {}

  @Cron('* * * * * *')
  async tick() {
    this.ticks++;
    await this.hub.send({ name: 'events' }, { event: 'tick', data: { tick: this.ticks } });
  }
}

/**
 * What the scope tests learn from the server side: that a handler's stream
 * was stopped (the right outcome), and how much it produced meanwhile (a
 * handler that runs on after its client left is the wrong outcome).
 */
@Injectable()
class Probe {
  torn: Deferred<void> = deferred();
  sendAfterClose: Deferred<unknown> = deferred();
  iteratorReturned: Deferred<void> = deferred();
  private produced = 0;
  private waiters: Array<{ at: number; resolve(): void }> = [];

  reset() {
    this.torn = deferred();
    this.sendAfterClose = deferred();
    this.iteratorReturned = deferred();
    this.waiters = [];
  }

  /** A handler produced one more value (an emission, a yield, a send that was accepted). */
  produce() {
    this.produced++;
    for (const waiter of this.waiters.filter((w) => w.at <= this.produced)) waiter.resolve();
    this.waiters = this.waiters.filter((w) => w.at > this.produced);
  }

  /** Resolves once handlers have produced `count` more values from now on. */
  producedMore(count: number): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ at: this.produced + count, resolve }));
  }
}

async function* countTo(n: number, probe?: Probe): AsyncGenerator<SseEvent<number>> {
  try {
    for (let i = 1; i <= n; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      probe?.produce();
      yield { event: 'count', data: i };
    }
  } finally {
    probe?.iteratorReturned.resolve();
  }
}

/** A stopped handler produces a value or two that were under way when its client left; a running one, many. */
const RUNNING_ON = 20;
/** Turns of the event loop a handler may take to stop once the server saw its client leave (it needs two or three). */
const STOP_WITHIN_TURNS = 100;

@Controller()
class ScopesController {
  constructor(private readonly probe: Probe) {}

  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}

  /** Pode's second example: two events with a pause between, then the connection closes by itself. */
  @Get('pode-local')
  @SseConnection({ name: 'pode', scope: 'local' })
  async podeLocal(@SseContext() ctx: SseContext) {
    await ctx.send({ event: 'Action', data: 'Starting' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await ctx.send({ event: 'BoldOne', data: 'Done' });
  }

  @Get('local-observable')
  @SseConnection({ name: 'obs', scope: 'local' })
  localObservable(): Observable<SseEvent<number>> {
    return interval(1).pipe(take(3), map((i) => ({ event: 'count', data: i + 1 })));
  }

  @Get('global-observable')
  @SseConnection({ name: 'gobs', scope: 'global' })
  globalObservable(): Observable<SseEvent<number>> {
    return of(1, 2, 3).pipe(map((i) => ({ event: 'count', data: i })));
  }

  @Get('local-iterable')
  @SseConnection({ name: 'iter', scope: 'local' })
  localIterable() {
    return countTo(3);
  }

  @Get('global-iterable')
  @SseConnection({ name: 'giter', scope: 'global' })
  globalIterable() {
    return countTo(3);
  }

  /** Plain values and arrays are events too: `{ data }` objects, or bare values wrapped as data. */
  @Get('local-values')
  @SseConnection({ name: 'values', scope: 'local' })
  localValues() {
    return of({ event: 'one', data: 1 }, [{ event: 'two', data: 2 }, { event: 'three', data: 3 }], 'bare');
  }

  @Get('endless')
  @SseConnection({ name: 'endless', scope: 'local' })
  endless(): Observable<SseEvent<number>> {
    return new Observable<SseEvent<number>>((subscriber) => {
      subscriber.next({ data: 0 });
      const timer = setInterval(() => {
        this.probe.produce();
        subscriber.next({ data: 1 });
      }, 5);
      return () => {
        clearInterval(timer);
        this.probe.torn.resolve();
      };
    });
  }

  @Get('endless-iterable')
  @SseConnection({ name: 'endless-iter', scope: 'local' })
  endlessIterable() {
    return countTo(Number.MAX_SAFE_INTEGER, this.probe);
  }

  @Get('outlive')
  @SseConnection({ name: 'outlive', scope: 'local' })
  async outlive(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'first' });
    // Sends on until a send rejects (the client left), at most a few after the test stopped waiting.
    let accepted = 0;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        ctx.send({ data: 'probe' }).then(
          () => {
            this.probe.produce();
            if (++accepted > 10_000) {
              clearInterval(check);
              resolve();
            }
          },
          (error: unknown) => {
            clearInterval(check);
            this.probe.sendAfterClose.resolve(error);
            resolve();
          },
        );
      }, 5);
    });
  }

  @Get('self-close')
  @SseConnection({ name: 'self-close', scope: 'global' })
  async selfClose(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'bye' });
    await ctx.close();
    await ctx.close();
  }

  @Post('noop')
  noop() {
    return 'ok';
  }
}

describe.each(platforms)("Pode's documented SSE examples ($name)", (platform) => {
  const t = useApp(platform, () => ({
    imports: [ScheduleModule.forRoot(), SseModule.forRoot()],
    controllers: [ScopesController],
    providers: [ClockJob, Probe],
  }));

  it('(a) a global events connection fed by an every-second @Cron job receives ticks', async () => {
    const { client } = await t.connect('/events');
    const ticks = await client.collect('tick', 2);
    const [first, second] = ticks.map((e) => JSON.parse(e.data).tick as number);
    expect(second).toBeGreaterThan(first);
    expect(client.ended).toBe(false);
  });

  it('(b) a local connection sends two events with a pause, then closes by itself', async () => {
    const client = await t.open('/pode-local');
    await client.end();
    expect(client.events.map((e) => [e.event, e.data])).toEqual([
      ['sse.open', expect.any(String)],
      ['Action', 'Starting'],
      ['BoldOne', 'Done'],
      ['sse.close', '{"reason":"server"}'],
    ]);
  });
});

describe.each(platforms)('scopes: returned Observables and AsyncIterables ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [ScopesController], providers: [Probe] }));
  let probe: Probe;
  beforeAll(() => {
    probe = t.get(Probe);
  });
  afterEach(() => probe.reset());

  const typesAndData = (events: { event?: string; data: string }[]) => events.map((e) => `${e.event ?? 'message'}:${e.data}`);

  it('a local connection streams a returned Observable, then closes', async () => {
    const client = await t.open('/local-observable');
    await client.end();
    expect(typesAndData(client.events).slice(1)).toEqual(['count:1', 'count:2', 'count:3', 'sse.close:{"reason":"server"}']);
  });

  it('a local connection streams a returned AsyncIterable, then closes', async () => {
    const client = await t.open('/local-iterable');
    await client.end();
    expect(typesAndData(client.events).slice(1)).toEqual(['count:1', 'count:2', 'count:3', 'sse.close:{"reason":"server"}']);
  });

  it('event objects, arrays of them and bare values are all streamed', async () => {
    const client = await t.open('/local-values');
    await client.end();
    expect(typesAndData(client.events).slice(1, -1)).toEqual(['one:1', 'two:2', 'three:3', 'message:bare']);
  });

  it('a global connection streams a returned Observable and stays open and addressable', async () => {
    const { client, clientId } = await t.connect('/global-observable');
    await client.collect('count', 3);
    expect(await t.hub.send({ name: 'gobs', clientId }, { data: 'later' })).toEqual({ delivered: 1 });
    await client.next('message');
    expect(typesAndData(client.events).slice(1)).toEqual(['count:1', 'count:2', 'count:3', 'message:later']);
    expect(client.ended).toBe(false);
  });

  it('a global connection streams a returned AsyncIterable and stays open and addressable', async () => {
    const { client, clientId } = await t.connect('/global-iterable');
    await client.collect('count', 3);
    expect(await t.hub.exists({ name: 'giter', clientId })).toBe(true);
    await t.hub.send({ name: 'giter' }, { data: 'later' });
    await client.next('message');
    expect(typesAndData(client.events).slice(1)).toEqual(['count:1', 'count:2', 'count:3', 'message:later']);
  });

  /**
   * Closes the client, waits until the server saw it leave, then names what came first: `stopped`,
   * the handler running on, or (for a handler that does not wait on timers) a few turns of the loop with neither.
   */
  async function afterLeaving(client: SseClient, name: string, stopped: Promise<unknown>, timerDriven = false) {
    const gone = nextLifecycle(t.hub, 'disconnect', { name });
    client.close();
    await gone;
    return firstOf({
      stopped,
      'the handler ran on after its client left': probe.producedMore(RUNNING_ON),
      ...(timerDriven ? {} : { 'the handler was left suspended, never stopped': eventLoopTurns(STOP_WITHIN_TURNS) }),
    });
  }

  it("a client that leaves tears down the handler's Observable", async () => {
    const client = await t.open('/endless');
    await client.next('message');
    expect(await afterLeaving(client, 'endless', probe.torn.promise)).toBe('stopped');
  });

  it("a client that leaves stops the handler's AsyncIterable", async () => {
    const client = await t.open('/endless-iterable');
    await client.collect('count', 2);
    expect(await afterLeaving(client, 'endless-iter', probe.iteratorReturned.promise)).toBe('stopped');
  });

  it('ctx.send on a connection the client has left rejects with SseConnectionClosedError', async () => {
    const client = await t.open('/outlive');
    await client.next('message');
    expect(await afterLeaving(client, 'outlive', probe.sendAfterClose.promise, true)).toBe('stopped');
    const error = await probe.sendAfterClose.promise;
    expect(error).toBeInstanceOf(SseConnectionClosedError);
    expect((error as Error).message).toMatch(/^nestjs-sse-hub: /);
  });

  it('ctx.close() on a global connection sends sse.close, ends the response, and may be called twice', async () => {
    const disconnected = nextLifecycle(t.hub, 'disconnect', { name: 'self-close' });
    const client = await t.open('/self-close');
    await client.end();
    expect(typesAndData(client.events).slice(1)).toEqual(['message:bye', 'sse.close:{"reason":"server"}']);
    await disconnected;
    expect(await t.hub.hasName('self-close')).toBe(false);
  });
});
