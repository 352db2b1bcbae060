import { Controller, Delete, Get, Injectable, Module, Post, Put, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  OnSseConnect,
  SseConnection,
  SseContext,
  SseInvalidArgumentError,
  SseModule,
  type SseModuleOptions,
  type SseOptionsFactory,
} from '../../lib/index.js';
import { platforms, useApps, type Platform } from '../support/app.js';

@Controller()
class ModuleController {
  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}

  @Post('events')
  @SseConnection({ name: 'posted' })
  posted() {}

  @Get('default-scope')
  @SseConnection({ name: 'default-scope' })
  async defaultScope(@SseContext() ctx: SseContext) {
    await ctx.send({ data: ctx.scope });
  }
}

@Injectable()
class AppConfig {
  readonly retry = 4321;
}

@Injectable()
class ExistingOptions implements SseOptionsFactory {
  createSseOptions(): SseModuleOptions {
    return { retry: 999, broadcastLevels: { events: 'clientId' } };
  }
}

@Module({ providers: [AppConfig, ExistingOptions], exports: [AppConfig, ExistingOptions] })
class ConfigModule {}

class OwnOptions implements SseOptionsFactory {
  async createSseOptions(): Promise<SseModuleOptions> {
    return { retry: 555, defaultScope: 'local' };
  }
}

describe.each(platforms)('SseModule configuration ($name)', (platform) => {
  const apps = useApps(platform);
  const start = (imports: ModuleMetadata['imports']) => apps.start({ imports, controllers: [ModuleController] });

  it('forRoot() without options: global scope, retry 3000, a working hub', async () => {
    const app = await start([SseModule.forRoot()]);
    const { client, clientId } = await app.connect('/events');
    expect(client.retry).toBe(3000);
    expect(await app.hub.send({ name: 'events', clientId }, { data: 'hi' })).toEqual({ delivered: 1 });
    await client.next('message');
    const scoped = await app.connect('/default-scope');
    expect((await scoped.client.next('message')).data).toBe('global');
  });

  it('serves a POST route', async () => {
    const app = await start([SseModule.forRoot()]);
    const { client, name } = await app.connect('/events', { method: 'POST', body: '' });
    expect(name).toBe('posted');
    expect(client.status).toBe(200);
  });

  it('forRootAsync with useFactory + inject', async () => {
    const app = await start([
      SseModule.forRootAsync({
        imports: [ConfigModule],
        inject: [AppConfig],
        useFactory: async (config: AppConfig) => ({ retry: config.retry }),
      }),
    ]);
    const { client } = await app.connect('/events');
    expect(client.retry).toBe(4321);
  });

  it('forRootAsync with useClass', async () => {
    const app = await start([SseModule.forRootAsync({ useClass: OwnOptions })]);
    const { client } = await app.connect('/events');
    expect(client.retry).toBe(555);
    // defaultScope 'local' applies to routes without a scope.
    const scoped = await app.open('/default-scope');
    await scoped.end();
    expect(scoped.events.map((e) => e.event ?? e.data)).toEqual(['sse.open', 'local', 'sse.close']);
  });

  it('forRootAsync with useExisting', async () => {
    const app = await start([SseModule.forRootAsync({ imports: [ConfigModule], useExisting: ExistingOptions })]);
    const { client } = await app.connect('/events');
    expect(client.retry).toBe(999);
    expect(app.hub.getBroadcastLevel('events')).toBe('clientId');
  });
});

/** Compiles a module and initialises an app from it; returns the bootstrap error, if any. */
async function bootstrapError(platform: Platform, metadata: ModuleMetadata): Promise<unknown> {
  let moduleRef;
  try {
    moduleRef = await Test.createTestingModule(metadata).compile();
  } catch (error) {
    return error;
  }
  const app = moduleRef.createNestApplication(platform.createAdapter(), { logger: false });
  try {
    await app.init();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await app.close().catch(() => undefined);
  }
}

describe.each(platforms)('bootstrap failures ($name)', (platform) => {
  it.each([
    ['PUT', Put],
    ['DELETE', Delete],
  ])('@SseConnection on a %s route fails at bootstrap with a clear message', async (verb, Route) => {
    @Controller()
    class WrongVerbController {
      @Route('events')
      @SseConnection({ name: 'events' })
      events() {}
    }
    const error = await bootstrapError(platform, { imports: [SseModule.forRoot()], controllers: [WrongVerbController] });
    expect(error).toBeInstanceOf(SseInvalidArgumentError);
    expect((error as Error).message).toBe(
      `nestjs-sse-hub: @SseConnection() on WrongVerbController.events() needs a GET or POST route, found ${verb}.`,
    );
  });

  it('@SseConnection without a route decorator fails at bootstrap', async () => {
    @Controller()
    class NoRouteController {
      @SseConnection({ name: 'events' })
      events() {}
    }
    const error = await bootstrapError(platform, { imports: [SseModule.forRoot()], controllers: [NoRouteController] });
    expect(error).toBeInstanceOf(SseInvalidArgumentError);
    expect((error as Error).message).toMatch(/^nestjs-sse-hub: @SseConnection\(\) on NoRouteController\.events\(\) needs a route decorator/);
  });

  it('@SseConnection with an unknown option (a typo) fails at bootstrap, naming it', async () => {
    @Controller()
    class TypoController {
      @Get('events')
      @SseConnection({ name: 'events', scop: 'local' } as never)
      events() {}
    }
    const error = await bootstrapError(platform, { imports: [SseModule.forRoot()], controllers: [TypoController] });
    expect(error).toBeInstanceOf(SseInvalidArgumentError);
    expect((error as Error).message).toMatch(/^nestjs-sse-hub: @SseConnection\(\) on TypoController\.events\(\) has an unknown option "scop"/);
  });

  it.each<[string, unknown]>([
    ['a negative retry', { retry: -1 }],
    ['a fractional retry', { retry: 1.5 }],
    ['a string retry', { retry: '100' }],
    ['a negative keepAlive', { keepAlive: -5 }],
    ['an unknown defaultScope', { defaultScope: 'everywhere' }],
    ['a short signing secret', { signing: { secret: 'short' } }],
    ['a non-boolean strict', { signing: { secret: 'x'.repeat(32), strict: 'yes' } }],
    ['signing: null', { signing: null }],
    ['an unknown broadcast level', { broadcastLevels: { events: 'everyone' } }],
    ['an invalid broadcast level name', { broadcastLevels: { '': 'name' } }],
    ['broadcastLevels: null', { broadcastLevels: null }],
    ['broadcastLevels as an array', { broadcastLevels: ['clientId'] }],
  ])('forRoot with %s fails at bootstrap with SseInvalidArgumentError', async (_label, options) => {
    const error = await bootstrapError(platform, { imports: [SseModule.forRoot(options as SseModuleOptions)] });
    expect(error).toBeInstanceOf(SseInvalidArgumentError);
    expect((error as Error).message).toMatch(/^nestjs-sse-hub: /);
  });

  it('forRootAsync whose factory returns invalid options fails at bootstrap', async () => {
    const error = await bootstrapError(platform, {
      imports: [SseModule.forRootAsync({ useFactory: () => ({ keepAlive: Number.NaN }) })],
    });
    expect(error).toBeInstanceOf(SseInvalidArgumentError);
  });
});

describe('decorator arguments are checked where they are written', () => {
  it.each<[string, unknown]>([
    ['an empty name', { name: '' }],
    ['no options', undefined],
    ['a name with a newline', { name: 'a\nb' }],
    ['an unknown scope', { name: 'a', scope: 'world' }],
    ['a negative retry', { name: 'a', retry: -1 }],
    ['a numeric group', { name: 'a', group: 5 }],
    ['a non-function clientId', { name: 'a', clientId: 'fixed' }],
  ])('@SseConnection with %s throws SseInvalidArgumentError', (_label, options) => {
    expect(() => SseConnection(options as never)).toThrow(SseInvalidArgumentError);
  });

  it('@OnSseConnect with an invalid name throws SseInvalidArgumentError', () => {
    expect(() => OnSseConnect('')).toThrow(SseInvalidArgumentError);
  });
});
