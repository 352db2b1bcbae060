import { Controller, Get, Injectable } from '@nestjs/common';
import { SseConnection, SseContext, SseModule } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { deferred, type Deferred } from '../support/deferred.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { eventLoopTurns } from '../support/wait.js';

/** What the handlers saw, new for each test. */
@Injectable()
class Probe {
  /** The app's own URL, so that a handler can call its slow route. */
  url = '';
  fetchFailed: Deferred<unknown> = deferred();
  signalAborted: Deferred<boolean> = deferred();
  handlerThrew: Deferred<void> = deferred();
  reset(): void {
    this.fetchFailed = deferred();
    this.signalAborted = deferred();
    this.handlerThrew = deferred();
  }
}

@Controller()
class SignalController {
  constructor(private readonly probe: Probe) {}

  /** Never answers: a model that thinks for ever. */
  @Get('slow')
  async slow() {
    await new Promise<void>(() => undefined);
  }

  /** Hands ctx.signal to a fetch of the slow route, as a handler hands it to a model SDK. */
  @Get('ask')
  @SseConnection({ name: 'ask', scope: 'local' })
  async ask(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'thinking' });
    try {
      await fetch(`${this.probe.url}/slow`, { signal: ctx.signal });
    } catch (error) {
      this.probe.signalAborted.resolve(ctx.signal.aborted);
      this.probe.fetchFailed.resolve(error);
      // What an SDK does: wraps the abort in an error of its own.
      this.probe.handlerThrew.resolve();
      throw new Error('model request failed', { cause: error });
    }
  }

  /** A global connection: its signal too is aborted when it closes. */
  @Get('global')
  @SseConnection({ name: 'global' })
  global(@SseContext() ctx: SseContext) {
    ctx.signal.addEventListener('abort', () => this.probe.signalAborted.resolve(ctx.signal.aborted));
  }
}

describe.each(platforms)('ctx.signal ($name)', (platform) => {
  const logger = new RecordingLogger();
  const t = useApp(
    platform,
    () => ({ imports: [SseModule.forRoot()], controllers: [SignalController], providers: [Probe] }),
    { logger },
  );
  beforeEach(() => {
    t.get(Probe).reset();
    t.get(Probe).url = t.url;
  });

  it('the client leaving aborts ctx.signal: a fetch given it rejects with AbortError, and the failure is neither sent nor logged', async () => {
    const probe = t.get(Probe);
    const client = await t.open('/ask');
    await client.waitFor(() => client.dataOf().includes('thinking'), 'the first event');
    client.close();
    const error = await probe.fetchFailed.promise;
    // A DOMException named AbortError (of fetch's realm, so not `instanceof` checked here).
    expect((error as Error).name).toBe('AbortError');
    expect(await probe.signalAborted.promise).toBe(true);
    await probe.handlerThrew.promise;
    // The handler's own error came after the abort: not an error of the app.
    await eventLoopTurns(20);
    expect(logger.lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
    expect(client.eventsOf('sse.error')).toEqual([]);
  });

  it('a global connection closed by the hub aborts its signal', async () => {
    const probe = t.get(Probe);
    const { client, clientId } = await t.connect('/global');
    await t.hub.close({ name: 'global', clientId });
    expect(await probe.signalAborted.promise).toBe(true);
    await client.end();
  });
});
