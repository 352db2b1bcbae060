import { Controller, Get, Post } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { OutgoingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { platforms, request, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';
import { buildFixtures } from '../support/cluster-process.js';

/**
 * Instrumentation (APM agents, compression) wraps `res.write`: every chunk of
 * a stream must then go through the wrapper, wherever and whenever it was
 * installed, and `directWrites: false` forces that path for a wrapper nobody
 * can detect. Each case compares what the wrapper saw with what the client
 * read: the same bytes, nothing around it.
 */

type Write = (this: ServerResponse, chunk: unknown, ...rest: unknown[]) => boolean;
const text = (chunk: unknown) => (Buffer.isBuffer(chunk) ? chunk.toString() : String(chunk));

@Controller()
class EventsController {
  private turns = 0;
  constructor(private readonly hub: SseHub) {}

  @Get('events')
  @SseConnection({ name: 'events' })
  open() {}

  /** One turn of two events, so that each call writes one more chunk to every stream. */
  @Post('turn')
  async turn() {
    const turn = this.turns++;
    await this.hub.send({ name: 'events' }, [{ data: `${turn}a` }, { data: `${turn}b` }]);
    return {};
  }
}

/** The data of the events a client got, in order. */
const dataOf = (client: SseClient) => client.eventsOf('message').map((event) => event.data);

describe.each(platforms)('write path: instrumented res.write ($name)', (platform) => {
  for (const directWrites of [true, false]) {
    describe(`directWrites: ${directWrites}`, () => {
      let t: TestApp;
      beforeAll(async () => {
        t = await startApp(platform, { imports: [SseModule.forRoot({ keepAlive: 0, directWrites })], controllers: [EventsController] });
      });
      afterAll(() => t.close());

      it('a wrapper installed on ServerResponse.prototype.write after the app started sees every chunk', async () => {
        const seen: string[] = [];
        const original = OutgoingMessage.prototype.write as Write;
        (ServerResponse.prototype as { write: Write }).write = function (chunk, ...rest) {
          if (this.req?.url === '/events') seen.push(text(chunk));
          return original.call(this, chunk, ...rest);
        };
        const client = await SseClient.open(`${t.url}/events`);
        try {
          await client.opened();
          for (let turn = 0; turn < 3; turn++) await request(`${t.url}/turn`, { method: 'POST' });
          await client.waitFor(() => dataOf(client).length >= 6, 'six events');
          expect(dataOf(client).length).toBe(6);
          // sse.open and one chunk per turn, all through the wrapper: exactly what the client read.
          expect(seen.length).toBe(4);
          expect(seen.join('')).toBe(client.raw);
        } finally {
          delete (ServerResponse.prototype as { write?: Write }).write;
          client.close();
        }
      });

      it('a wrapper installed on ServerResponse.prototype.write in the middle of a stream sees every later chunk', async () => {
        const client = await SseClient.open(`${t.url}/events`);
        try {
          await client.opened();
          // A first turn on whatever path the stream chose ...
          await request(`${t.url}/turn`, { method: 'POST' });
          await client.waitFor(() => dataOf(client).length >= 2, 'the first turn');
          const readBefore = client.raw.length;
          // ... then an agent that loads late wraps every response's write.
          const seen: string[] = [];
          const original = OutgoingMessage.prototype.write as Write;
          (ServerResponse.prototype as { write: Write }).write = function (chunk, ...rest) {
            if (this.req?.url === '/events') seen.push(text(chunk));
            return original.call(this, chunk, ...rest);
          };
          try {
            for (let turn = 0; turn < 2; turn++) await request(`${t.url}/turn`, { method: 'POST' });
            await client.waitFor(() => dataOf(client).length >= 6, 'six events');
          } finally {
            delete (ServerResponse.prototype as { write?: Write }).write;
          }
          expect(dataOf(client).length).toBe(6);
          expect(seen.length).toBe(2);
          expect(seen.join('')).toBe(client.raw.slice(readBefore));
        } finally {
          client.close();
        }
      });
    });
  }

  describe('a wrapper installed before the library loaded (its own process)', () => {
    beforeAll(() => buildFixtures(), 120_000);

    const cases = [
      { wrap: 'server-response', directWrites: true, what: 'a plain wrapper on ServerResponse.prototype.write' },
      { wrap: 'outgoing-message-shimmer', directWrites: true, what: "a wrapper on OutgoingMessage.prototype.write with shimmer's markers" },
      { wrap: 'outgoing-message', directWrites: false, what: 'a plain wrapper on OutgoingMessage.prototype.write, with directWrites: false' },
    ];
    it.each(cases)('$what sees every chunk', async ({ wrap, directWrites }) => {
      const child = await InstrumentedApp.start({ WRAP: wrap, DIRECT_WRITES: String(directWrites), PLATFORM: platform.name });
      let client: SseClient | undefined;
      try {
        client = await SseClient.open(`${child.url}/events`);
        await client.opened();
        await child.call('send');
        const done = client;
        await done.waitFor(() => dataOf(done).length >= 6, 'six events');
        expect(dataOf(client)).toEqual(['0a', '0b', '1a', '1b', '2a', '2b']);
        expect(await child.call('seen')).toBe(client.raw);
      } finally {
        client?.close();
        await child.stop();
      }
    });
  });
});

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.fixture-build/test/fixtures/instrumented-app.js');

/** test/fixtures/instrumented-app.ts in its own OS process, driven over IPC. */
class InstrumentedApp {
  private nextId = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static start(env: Record<string, string>): Promise<InstrumentedApp> {
    const child = spawn(process.execPath, [FIXTURE], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`instrumented app exited with ${code} before it was ready`)));
      child.on('message', (message: { ready?: boolean; url?: string }) => {
        if (message.ready) resolve(new InstrumentedApp(child, message.url!));
      });
    });
  }

  call(op: 'send' | 'seen'): Promise<unknown> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const onMessage = (message: { id?: number; result?: unknown }) => {
        if (message.id !== id) return;
        this.child.off('message', onMessage);
        resolve(message.result);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', () => reject(new Error('instrumented app exited')));
      this.child.send({ id, op });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
