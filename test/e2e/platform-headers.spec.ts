import {
  Controller,
  Get,
  Header,
  Injectable,
  Module,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type MiddlewareConsumer,
  type NestInterceptor,
  type NestMiddleware,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { SseConnection, SseModule } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';

const ORIGIN = 'http://app.example';

/** Sets a header the platform-neutral way (Express `res.setHeader`, Fastify `reply.header`). */
@Injectable()
class HeaderGuard implements CanActivate {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  canActivate(context: ExecutionContext): boolean {
    const response = context.switchToHttp().getResponse<object>();
    this.adapterHost.httpAdapter.setHeader(response, 'X-From-Guard', 'guard');
    // The library's own headers win over the app's.
    this.adapterHost.httpAdapter.setHeader(response, 'Cache-Control', 'max-age=60');
    return true;
  }
}

@Injectable()
class HeaderInterceptor implements NestInterceptor {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  intercept(context: ExecutionContext, next: CallHandler) {
    this.adapterHost.httpAdapter.setHeader(context.switchToHttp().getResponse<object>(), 'X-From-Interceptor', 'interceptor');
    return next.handle();
  }
}

/** Nest middleware gets Node's response on both platforms (Fastify runs it through @fastify/middie). */
class HeaderMiddleware implements NestMiddleware {
  use(_req: unknown, res: ServerResponse, next: () => void) {
    res.setHeader('X-From-Middleware', 'middleware');
    next();
  }
}

@Controller()
class StreamController {
  @Get('events')
  @SseConnection({ name: 'events' })
  open() {}
}

@Controller('decorated')
@UseGuards(HeaderGuard)
@UseInterceptors(HeaderInterceptor)
class DecoratedController {
  @Get('events')
  @Header('X-From-Decorator', 'decorator')
  @SseConnection({ name: 'decorated' })
  open() {}

  @Get('plain')
  plain() {
    return { ok: true };
  }
}

@Module({ controllers: [DecoratedController] })
class DecoratedModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(HeaderMiddleware).forRoutes(DecoratedController);
  }
}

describe.each(platforms)('headers set by the app ($name)', (platform) => {
  describe('with app.enableCors()', () => {
    const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [StreamController] }), {
      setup: (app) => app.enableCors({ origin: ORIGIN, credentials: true, exposedHeaders: ['X-Sse-Client-Id'] }),
    });

    it('puts the CORS headers on the stream', async () => {
      const { client } = await t.connect('/events', { headers: { origin: ORIGIN } });
      expect(client.status).toBe(200);
      expect(client.headers['content-type']).toBe('text/event-stream');
      expect(client.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(client.headers['access-control-allow-credentials']).toBe('true');
      expect(client.headers['access-control-expose-headers']).toBe('X-Sse-Client-Id');
    });

    it('answers the preflight of a cross-origin stream', async () => {
      const res = await t.request('/events', {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-sse-client-id' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    });
  });

  describe('without app.enableCors()', () => {
    const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [StreamController] }));

    it('sends no CORS header on the stream', async () => {
      const { client } = await t.connect('/events', { headers: { origin: ORIGIN } });
      expect(client.status).toBe(200);
      const cors = Object.keys(client.headers).filter((name) => name.startsWith('access-control-'));
      expect(cors).toEqual([]);
    });
  });

  describe('from middleware, guards, interceptors and @Header()', () => {
    const t = useApp(platform, () => ({ imports: [SseModule.forRoot(), DecoratedModule] }));

    it('reach the client on the stream, under the SSE headers', async () => {
      const { client } = await t.connect('/decorated/events');
      expect(client.status).toBe(200);
      expect(client.headers['x-from-middleware']).toBe('middleware');
      expect(client.headers['x-from-guard']).toBe('guard');
      expect(client.headers['x-from-interceptor']).toBe('interceptor');
      expect(client.headers['x-from-decorator']).toBe('decorator');
      expect(client.headers['cache-control']).toBe('no-cache, no-transform');
      expect(client.headers['content-type']).toBe('text/event-stream');
      expect(client.headers['x-sse-name']).toBe('decorated');
    });

    it('are the same on an ordinary route of the same controller', async () => {
      const res = await t.request('/decorated/plain');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-from-middleware')).toBe('middleware');
      expect(res.headers.get('x-from-guard')).toBe('guard');
      expect(res.headers.get('x-from-interceptor')).toBe('interceptor');
    });
  });
});
