import {
  Controller,
  ForbiddenException,
  Get,
  Injectable,
  NotFoundException,
  ParseIntPipe,
  Query,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { concat, Observable, of, throwError } from 'rxjs';
import { SseConnection, SseContext, SseModule } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { headerValue, queryParam } from '../support/request-params.js';

@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const token = headerValue(context.switchToHttp().getRequest(), 'authorization');
    if (token === undefined) throw new UnauthorizedException('a token is needed');
    return token === 'Bearer good';
  }
}

@Controller()
class ErrorsController {
  @Get('guarded')
  @UseGuards(TokenGuard)
  @SseConnection({ name: 'guarded' })
  guarded() {}

  @Get('piped')
  @SseConnection({ name: 'piped' })
  async piped(@Query('n', ParseIntPipe) n: number, @SseContext() ctx: SseContext) {
    await ctx.send({ data: n * 2 });
  }

  @Get('throws-sync')
  @SseConnection({ name: 'throws' })
  throwsSync() {
    throw new ForbiddenException('not yours');
  }

  @Get('throws-async')
  @SseConnection({ name: 'throws', scope: 'local' })
  async throwsAsync() {
    await new Promise((resolve) => setImmediate(resolve));
    throw new NotFoundException('no such feed');
  }

  @Get('throws-plain')
  @SseConnection({ name: 'throws' })
  throwsPlain() {
    throw new Error('database password is hunter2');
  }

  @Get('fails-later')
  @SseConnection({ name: 'later', scope: 'local' })
  async failsLater(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'started' });
    throw new ForbiddenException('quota exceeded');
  }

  @Get('crashes-later')
  @SseConnection({ name: 'later', scope: 'global' })
  async crashesLater(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'started' });
    throw new Error('secret internals');
  }

  @Get('observable-fails')
  @SseConnection({ name: 'later', scope: 'local' })
  observableFails(): Observable<unknown> {
    return concat(of({ data: 'one' }), throwError(() => new Error('stream broke')));
  }

  @Get('derived')
  @SseConnection({ name: 'derived', clientId: (req) => queryParam(req, 'user') })
  derived() {}

  @Get('callback-throws')
  @SseConnection({
    name: 'grouped',
    group: () => {
      throw new ForbiddenException('no room for you');
    },
  })
  callbackThrows() {}

  @Get('bad-group')
  @SseConnection({ name: 'grouped', group: (req) => queryParam(req, 'group') })
  badGroup() {}
}

describe.each(platforms)('errors before and after the stream opens ($name)', (platform) => {
  const logger = new RecordingLogger();
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [ErrorsController] }), { logger });

  /** Expects a plain HTTP error answer: the status, a JSON body with the message, no stream, nothing registered. */
  async function expectHttpError(path: string, status: number, message: RegExp, headers: Record<string, string> = {}) {
    const client = await t.open(path, { headers });
    await client.end();
    expect(client.status).toBe(status);
    expect(String(client.headers['content-type'])).toMatch(/^application\/json/);
    expect(client.events).toEqual([]);
    expect(JSON.parse(client.body)).toMatchObject({ statusCode: status, message: expect.stringMatching(message) });
    expect(await t.hub.count()).toBe(0);
  }

  it('a guard that throws UnauthorizedException answers 401, not a stream', () =>
    expectHttpError('/guarded', 401, /a token is needed/));

  it('a guard that refuses answers 403', () =>
    expectHttpError('/guarded', 403, /Forbidden/, { authorization: 'Bearer bad' }));

  it('a guard that allows opens the stream', async () => {
    const { client } = await t.connect('/guarded', { headers: { authorization: 'Bearer good' } });
    expect(client.status).toBe(200);
    expect(await t.hub.count({ name: 'guarded' })).toBe(1);
  });

  it('a pipe error answers 400', () => expectHttpError('/piped?n=abc', 400, /numeric string is expected/));

  it('a pipe that passes lets the handler stream', async () => {
    const { client } = await t.connect('/piped?n=21');
    expect((await client.next('message')).data).toBe('42');
  });

  it('a handler that throws before the stream gives its real status (sync)', () =>
    expectHttpError('/throws-sync', 403, /not yours/));

  it('a handler that throws before the stream gives its real status (async)', () =>
    expectHttpError('/throws-async', 404, /no such feed/));

  it('an unknown error before the stream is a 500 that does not leak its message', async () => {
    await expectHttpError('/throws-plain', 500, /Internal server error/);
  });

  it('an HttpException after the stream opened becomes sse.error with its message, then the response ends', async () => {
    const client = await t.open('/fails-later');
    await client.end();
    expect(client.status).toBe(200);
    expect(client.events.map((e) => e.event ?? 'message')).toEqual(['sse.open', 'message', 'sse.error']);
    expect(JSON.parse(client.eventsOf('sse.error')[0].data)).toEqual({ message: 'quota exceeded' });
  });

  it('an unknown error after the stream opened is sse.error without details or stack, and is logged', async () => {
    const logged = logger.waitFor((line) => line.level === 'error' && line.message.includes('secret internals'));
    const client = await t.open('/crashes-later');
    await client.end();
    const data = client.eventsOf('sse.error')[0].data;
    expect(JSON.parse(data)).toEqual({ message: 'Internal server error' });
    expect(client.raw).not.toMatch(/secret internals|\bat /);
    await logged;
    expect(await t.hub.hasName('later')).toBe(false);
  });

  it('an Observable that errors after emitting ends with sse.error', async () => {
    const client = await t.open('/observable-fails');
    await client.end();
    expect(client.events.map((e) => e.event ?? e.data)).toEqual(['sse.open', 'one', 'sse.error']);
  });

  it('an invalid group derived from the request answers 400', () =>
    expectHttpError(`/bad-group?group=${'g'.repeat(257)}`, 400, /^nestjs-sse-hub: group .* is invalid/));

  it('an invalid offered client id answers 400', async () => {
    await expectHttpError('/bad-group?clientId=a%01b', 400, /^nestjs-sse-hub: client id .* is invalid/);
    await expectHttpError(`/bad-group?clientId=${'x'.repeat(257)}`, 400, /client id/);
  });

  it('an invalid client id derived by the route answers 400', () =>
    expectHttpError(`/derived?user=${'u'.repeat(257)}`, 400, /^nestjs-sse-hub: client id .* is invalid/));

  it('a group callback that throws an HttpException answers with its status', () =>
    expectHttpError('/callback-throws', 403, /no room for you/));

  it('a Last-Event-ID longer than 1024 characters answers 400', async () => {
    await expectHttpError('/bad-group', 400, /Last-Event-ID is longer than 1024/, { 'last-event-id': 'x'.repeat(1025) });
    await expectHttpError(`/bad-group?lastEventId=${'x'.repeat(1025)}`, 400, /Last-Event-ID/);
  });
});
