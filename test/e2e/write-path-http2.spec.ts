import { Controller, Get } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import http2, { constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { startApp, type Platform, type TestApp } from '../support/app.js';
import { Conditions } from '../support/conditions.js';
import { NumberedEventCheck, numberedEvents } from '../support/numbered-events.js';

/**
 * The write path on HTTP/2 (Fastify with `http2: true`, cleartext h2c; Nest's
 * Express adapter serves HTTP/1.1 only): many streams share one session and
 * its socket, so pacing reads the stream's flow control, a drop resets one
 * stream, and nothing touches the session's own idle timeout.
 */

const SESSION_TIMEOUT = 500;
const STALL_TIMEOUT = 600;
const KB = 1024;
const PACED_EVENTS = 10_000;
const BIG_EVENT_BYTES = 64 * KB;
const produced = { paced: 0 };

@Controller()
class Http2Controller {
  /** 10 MB, one 1 KB event at a time, pulled as the client reads. */
  @Get('paced')
  @SseConnection({ name: 'paced' })
  paced() {
    return numberedEvents(KB, PACED_EVENTS, { pulled: (count) => (produced.paced = count) });
  }

  /** 64 KB events for as long as the stream lasts. */
  @Get('endless')
  @SseConnection({ name: 'endless' })
  endless() {
    return numberedEvents(BIG_EVENT_BYTES);
  }

  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}
}

/** Fastify over h2c; `sessionTimeout` closes a session without any frame for that long (Fastify's default is 72 s). */
const fastifyHttp2 = (sessionTimeout?: number): Platform => ({
  name: 'fastify-http2',
  createAdapter: () => new FastifyAdapter({ http2: true, http2SessionTimeout: sessionTimeout }),
});

/** One SSE stream on an HTTP/2 session, read with a real SSE parser; its numbered events are checked as they arrive. */
class Http2SseStream {
  readonly protocolEvents: EventSourceMessage[] = [];
  readonly check: NumberedEventCheck;
  closed = false;
  rstCode: number | undefined;
  private readonly conditions = new Conditions();

  private constructor(
    readonly stream: ClientHttp2Stream,
    eventBytes: number,
  ) {
    this.check = new NumberedEventCheck(eventBytes);
    const parser = createParser({
      onEvent: (event) => {
        if (event.event !== undefined) this.protocolEvents.push(event);
        this.check.onEvent(event);
        this.conditions.notify();
      },
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => parser.feed(chunk));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      this.closed = true;
      this.rstCode = stream.rstCode;
      this.conditions.notify();
    });
  }

  static open(session: ClientHttp2Session, path: string, eventBytes = 0) {
    return new Http2SseStream(session.request({ ':path': path, accept: 'text/event-stream' }), eventBytes);
  }

  /** Numbered events received. */
  get received(): number {
    return this.check.next;
  }

  waitFor<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
    return this.conditions.waitFor(predicate, what, () => `${this.received} events received`, timeoutMs);
  }

  opened(): Promise<unknown> {
    return this.waitFor(() => this.protocolEvents.find((event) => event.event === 'sse.open'), 'sse.open');
  }
}

const sessionClosed = (session: ClientHttp2Session) =>
  new Promise<void>((resolve) => (session.closed || session.destroyed ? resolve() : session.once('close', () => resolve())));

describe('write path over HTTP/2 (Fastify, h2c)', () => {
  let t: TestApp;
  const sessions: ClientHttp2Session[] = [];
  const connect = () => {
    const session = http2.connect(t.url);
    session.on('error', () => undefined);
    sessions.push(session);
    return session;
  };
  const start = async (sessionTimeout?: number, stallTimeout?: number) => {
    t = await startApp(fastifyHttp2(sessionTimeout), {
      imports: [SseModule.forRoot({ keepAlive: 0, stallTimeout, maxBufferedBytes: 64 * 1024 * 1024 })],
      controllers: [Http2Controller],
    });
  };
  afterEach(() => {
    for (const session of sessions.splice(0)) session.destroy();
  });

  describe("with Fastify's default session timeout and the default stallTimeout", () => {
    beforeAll(() => start());
    afterAll(() => t.close());

    it('paces an async iterable by a stream that pauses: nothing dropped, everything arrives in order', async () => {
      const hub = t.app.get(SseHub);
      produced.paced = 0;
      const sse = Http2SseStream.open(connect(), '/paced', KB);
      await sse.waitFor(() => sse.received >= 1, 'the first event');
      sse.stream.pause();
      // The client does not read for a while (the scenario, not a wait for something).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const ahead = produced.paced - sse.received;
      sse.stream.resume();
      await sse.waitFor(() => sse.received >= PACED_EVENTS || sse.closed, 'every event, or the end');
      console.info(`HTTP/2 paced iterable: ${ahead} events ahead of the reader while it paused`);

      expect({ received: sse.received, broken: sse.check.broken, closed: sse.closed }).toEqual({
        received: PACED_EVENTS,
        broken: '',
        closed: false,
      });
      // Flow control holds what the client has not read: a window and a high-water mark, not 10 MB.
      expect(ahead * KB).toBeLessThan(2 * 1024 * 1024);
      expect(hub.stats()).toMatchObject({ slowClientDisconnects: 0, budgetDisconnects: 0, stalledDisconnects: 0 });
    });
  });

  describe(`with a session timeout of ${SESSION_TIMEOUT} ms and a stallTimeout of ${STALL_TIMEOUT} ms`, () => {
    beforeAll(() => start(SESSION_TIMEOUT, STALL_TIMEOUT));
    afterAll(() => t.close());

    it('resets a stalled stream only: the session and its other stream go on', async () => {
      const hub = t.app.get(SseHub);
      const before = hub.stats().stalledDisconnects;
      const session = connect();
      const stalled = Http2SseStream.open(session, '/endless', BIG_EVENT_BYTES);
      await stalled.opened();
      stalled.stream.pause();
      const reader = Http2SseStream.open(session, '/endless', BIG_EVENT_BYTES);
      await reader.opened();

      await stalled.waitFor(() => stalled.closed || reader.closed || session.closed, 'the stalled stream to be reset');
      const readBefore = reader.received;
      await reader.waitFor(() => reader.received >= readBefore + 32 || reader.closed, 'the other stream to go on');
      expect({ stalledClosed: stalled.closed, rstCode: stalled.rstCode, readerClosed: reader.closed, sessionClosed: session.closed }).toEqual({
        stalledClosed: true,
        rstCode: constants.NGHTTP2_CANCEL,
        readerClosed: false,
        sessionClosed: false,
      });
      expect(reader.check.broken).toBe('');
      expect(hub.stats().stalledDisconnects).toBe(before + 1);
      reader.stream.close();
    });

    it.each(['the server', 'the client'])("keeps the session's idle timeout after an SSE stream on it was closed by %s", async (closer) => {
      const hub = t.app.get(SseHub);
      const session = connect();
      const closed = sessionClosed(session);
      const sse = Http2SseStream.open(session, '/events');
      await sse.opened();
      if (closer === 'the server') await hub.close({ name: 'events' });
      else sse.stream.close();
      await sse.waitFor(() => sse.closed, 'the stream to end');
      // Idle from now on: the server closes the session after SESSION_TIMEOUT; the deadline is far above it.
      let deadline: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        closed.then(() => 'session closed by the server'),
        new Promise((resolve) => (deadline = setTimeout(() => resolve('session still open after 20 × its timeout'), 20 * SESSION_TIMEOUT))),
      ]);
      clearTimeout(deadline);
      expect(outcome).toBe('session closed by the server');
    });
  });
});
