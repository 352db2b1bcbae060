import {
  Controller,
  Get,
  Injectable,
  RequestTimeoutException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { catchError, Observable, tap, throwError, timeout, TimeoutError } from 'rxjs';
import { createParser } from 'eventsource-parser';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { platforms, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';
import { KeepAliveSocket, parseResponses } from '../support/keep-alive-socket.js';
import { loopbackAbsorption } from '../support/loopback.js';
import { MB, retainedBytes } from '../support/memory.js';
import { deferred, type Deferred } from '../support/deferred.js';
import { NumberedEventCheck, numberedEvents } from '../support/numbered-events.js';

/**
 * The write path under real kernel backpressure: async iterables are paced by
 * their client, a response ended by someone else is let go (and nothing more
 * is written to its keep-alive socket), a client that stops reading is closed
 * after `stallTimeout` while a slow one that reads is not.
 */

const KB = 1024;
/** Test 1: 30,000 events of 1 KB. */
const PACED_EVENTS = 30_000;
const PACED_EVENT_BYTES = KB;
/** Big events fill the kernel's buffers in a few dozen writes (tests 2 and 5). */
const BIG_EVENT_BYTES = 64 * KB;
const STALL_TIMEOUT = 600;

/** How far the producers of the current test got. */
const produced = { paced: 0, endless: 0 };
let endlessStopped: Deferred<void> = deferred();

@Controller()
class WritePathController {
  /** 30 MB, one 1 KB event at a time, pulled as the client reads. */
  @Get('paced')
  @SseConnection({ name: 'paced' })
  paced() {
    return numberedEvents(PACED_EVENT_BYTES, PACED_EVENTS, { pulled: (count) => (produced.paced = count) });
  }

  /** 64 KB events for as long as the connection lasts. */
  @Get('endless')
  @SseConnection({ name: 'endless' })
  endless() {
    return numberedEvents(BIG_EVENT_BYTES, Infinity, { pulled: (count) => (produced.endless = count), stopped: () => endlessStopped.resolve() });
  }

  @Get('ping')
  ping() {
    return { ok: true };
  }
}

/** Nest's documented timeout interceptor (docs.nestjs.com/interceptors), 1 s. */
@Injectable()
class TimeoutInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      timeout(1000),
      catchError((err) => (err instanceof TimeoutError ? throwError(() => new RequestTimeoutException()) : throwError(() => err))),
    );
  }
}

/** What the response looked like when the timeout fired (outermost interceptor, so it sees the error first). */
let timedOut: Deferred<{ response: ServerResponse; unsent: number }> = deferred();
class TimeoutWitness implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const reply = context.switchToHttp().getResponse<ServerResponse | { raw: ServerResponse }>();
    const response = 'raw' in reply ? reply.raw : reply;
    return next.handle().pipe(tap({ error: () => timedOut.resolve({ response, unsent: response.writableLength }) }));
  }
}

/** Resolves after `turns` turns of the event loop: a bound counted in work, not in time. */
async function turns(count: number, done: () => boolean): Promise<boolean> {
  for (let i = 0; i < count && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
  return done();
}

describe.each(platforms)('write path ($name)', (platform) => {
  let kernelBytes: number;
  beforeAll(async () => {
    kernelBytes = await loopbackAbsorption();
    console.info(`loopback: the kernel absorbs ${(kernelBytes / MB).toFixed(2)} MB for a reader that stopped`);
  });

  describe('pacing', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(platform, { imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [WritePathController] });
    });
    afterAll(() => t.close());

    it('paces an async iterable of 30 MB by a client that pauses 3 s: every event arrives in order, memory stays flat', async () => {
      const hub = t.app.get(SseHub);
      produced.paced = 0;
      const baseline = await retainedBytes();
      const state = new NumberedEventCheck(PACED_EVENT_BYTES);
      const client = await SseClient.open(`${t.url}/paced`, { keepEvents: false, onEvent: state.onEvent });
      // Stops reading after the first event: what follows waits in the kernel, then on the server.
      await client.waitFor(() => state.next >= 1, 'the first event');
      client.pause();
      // The scenario of the issue: the client does not read for 3 s (not a wait for something).
      let peak = 0;
      for (let sample = 0; sample < 3; sample++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        peak = Math.max(peak, (await retainedBytes()) - baseline);
      }
      const pulledWhilePaused = produced.paced;
      const readWhilePaused = state.next;
      client.resume();
      await client.waitFor(() => state.next >= PACED_EVENTS || client.ended, 'every event, or the end', 60_000);
      console.info(
        `paced iterable: ${pulledWhilePaused - readWhilePaused} events ahead of the reader while it paused, ` +
          `retained memory +${(peak / MB).toFixed(1)} MB`,
      );

      expect({ received: state.next, broken: state.broken, ended: client.ended }).toEqual({ received: PACED_EVENTS, broken: '', ended: false });
      // Ahead of the reader: what the kernel holds, plus a high-water mark and a margin; a push would be all 30,000.
      expect((pulledWhilePaused - readWhilePaused) * PACED_EVENT_BYTES).toBeLessThan(kernelBytes + 2 * MB);
      expect(pulledWhilePaused).toBeLessThan(PACED_EVENTS);
      expect(peak).toBeLessThan(8 * MB);
      expect(hub.stats()).toMatchObject({ slowClientDisconnects: 0, budgetDisconnects: 0, stalledDisconnects: 0 });
      client.close();
    });
  });

  describe('a response ended by someone else', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(
        platform,
        { imports: [SseModule.forRoot({ keepAlive: 0 })], controllers: [WritePathController] },
        { setup: (app) => void app.useGlobalInterceptors(new TimeoutWitness(), new TimeoutInterceptor()) },
      );
    });
    afterAll(() => t.close());

    it("lets go of a stream Nest's TimeoutInterceptor ended while its client was behind; the socket carries the next request cleanly", async () => {
      const hub = t.app.get(SseHub);
      const disconnects: string[] = [];
      const subscription = hub.events$.subscribe((event) => event.type === 'disconnect' && disconnects.push(event.connection.name));
      timedOut = deferred();
      endlessStopped = deferred();
      let stopped = false;
      void endlessStopped.promise.then(() => (stopped = true));
      const socket = await KeepAliveSocket.connect(t.url);
      try {
        socket.get('/endless', { accept: 'text/event-stream' });
        await socket.waitFor(() => socket.received.includes('event: sse.open'), 'sse.open');
        socket.pause();

        // One second later the interceptor times out and Nest's exception filter ends the response.
        const { response, unsent } = await timedOut.promise;
        expect(unsent).toBeGreaterThan(0);
        expect(await turns(100, () => response.writableEnded)).toBe(true);
        // Let go at once, although the client has not read the end yet: unregistered, the producer stopped.
        expect(await turns(100, () => stopped)).toBe(true);
        expect(await hub.count({ name: 'endless' })).toBe(0);
        expect(disconnects).toEqual(['endless']);
        expect((await hub.send({ name: 'endless' }, { data: 'after the end' })).delivered).toBe(0);
        const producedAtEnd = produced.endless;

        socket.resume();
        const first = await socket.waitFor(() => {
          const parsed = parseResponses(socket.received);
          return (parsed.responses.length > 0 || parsed.error !== undefined || socket.closed) && parsed;
        }, 'the end of the stream');
        expect(first.error).toBeUndefined();
        expect(first.rest.length).toBe(0);
        // The same socket, a second request: its answer follows the terminating chunk directly.
        socket.get('/ping');
        const both = await socket.waitFor(() => {
          const parsed = parseResponses(socket.received);
          return (parsed.responses.length > 1 || parsed.error !== undefined || socket.closed) && parsed;
        }, 'the answer to the second request');
        expect({ error: both.error, rest: both.rest.toString('latin1'), closed: socket.closed }).toEqual({
          error: undefined,
          rest: '',
          closed: false,
        });
        const [stream, ping] = both.responses;
        expect(stream.status).toBe(200);
        expect(stream.headers['content-type']).toBe('text/event-stream');
        expect({ status: ping.status, body: JSON.parse(ping.body.toString()) }).toEqual({ status: 200, body: { ok: true } });

        // The stream's body is whole events, in order, and nothing written after the end.
        const body = new NumberedEventCheck(BIG_EVENT_BYTES);
        const texts: string[] = [];
        createParser({ onEvent: (event) => (body.onEvent(event), texts.push(event.data)) }).feed(stream.body.toString());
        expect(body.broken).toBe('');
        expect(body.next).toBeGreaterThan(0);
        expect(body.next).toBeLessThanOrEqual(producedAtEnd);
        expect(texts).not.toContain('after the end');
        expect(produced.endless).toBe(producedAtEnd);
      } finally {
        subscription.unsubscribe();
        socket.destroy();
      }
    });
  });

  describe('stallTimeout', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(platform, {
        imports: [SseModule.forRoot({ keepAlive: 0, stallTimeout: STALL_TIMEOUT, maxBufferedBytes: 64 * MB })],
        controllers: [WritePathController],
      });
    });
    afterAll(() => t.close());

    it('closes a client that stopped reading after stallTimeout; one that reads slowly stays', async () => {
      const hub = t.app.get(SseHub);
      const closed: string[] = [];
      const firstClosed = deferred();
      const subscription = hub.events$.subscribe((event) => {
        if (event.type !== 'disconnect') return;
        closed.push(event.connection.clientId);
        firstClosed.resolve();
      });
      // Two streams of 64 KB events: one client never reads again, the other reads in bursts with short pauses.
      const stalled = await SseClient.open(`${t.url}/endless`, { keepEvents: false });
      const { clientId: stalledId } = await stalled.opened();
      stalled.pause();
      const slow = new NumberedEventCheck(BIG_EVENT_BYTES);
      let rounds = 0;
      const reader = await SseClient.open(`${t.url}/endless`, { keepEvents: false, onEvent: slow.onEvent });
      await reader.opened();
      let reading = true;
      void (async () => {
        // Reads a few events, then pauses a sixth of stallTimeout: slow, never stalled.
        while (reading && !reader.ended) {
          reader.pause();
          await new Promise((resolve) => setTimeout(resolve, STALL_TIMEOUT / 6));
          const from = slow.next;
          reader.resume();
          await reader.waitFor(() => slow.next >= from + 4 || reader.ended, 'a few events').catch(() => undefined);
          rounds++;
        }
      })();

      try {
        // One of them is closed (the stalled one, if all is well) ...
        await Promise.race([firstClosed.promise, reader.end()]);
        expect(closed).toEqual([stalledId]);
        // ... and the slow one keeps reading for as many rounds as fit in three stall timeouts.
        const roundsAtStall = rounds;
        await reader.waitFor(() => rounds >= roundsAtStall + 18 || reader.ended, 'the slow reader to go on', 30_000);
        expect({ closed, readerEnded: reader.ended, broken: slow.broken }).toEqual({ closed: [stalledId], readerEnded: false, broken: '' });
        expect(hub.stats()).toMatchObject({ stalledDisconnects: 1, slowClientDisconnects: 0, budgetDisconnects: 0 });
        expect(await hub.count({ name: 'endless' })).toBe(1);
        // The stalled client's socket was cut: reading again, it gets what was in flight, then the end.
        stalled.resume();
        await stalled.end();
      } finally {
        reading = false;
        subscription.unsubscribe();
        reader.close();
        stalled.close();
      }
    });
  });
});
