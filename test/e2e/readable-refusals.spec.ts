import { Controller, ForbiddenException, Get } from '@nestjs/common';
import { SseConnection, SseHub, SseModule } from '../../lib/index.js';
import { platforms, startApp, type TestApp } from '../support/app.js';
import { SseClientPool } from '../support/sse-client.js';
import { rawHttp } from '../support/raw-http.js';

// Refusals that a cross-origin page can read (every answer of an allowAllOrigins route carries
// Access-Control-Allow-Origin), and an empty Last-Event-ID that is no id.

@Controller()
class CorsController {
  @Get('cors')
  @SseConnection({ name: 'cors', allowAllOrigins: true })
  open() {}

  @Get('cors-refused')
  @SseConnection({ name: 'cors', allowAllOrigins: true })
  refuse() {
    throw new ForbiddenException('not you');
  }

  @Get('plain')
  @SseConnection({ name: 'plain' })
  plain() {}
}

const ACAO = 'access-control-allow-origin';

describe.each(platforms)('readable refusals ($name)', (platform) => {
  describe.each(['retry', 'reject'] as const)("overload '%s'", (overload) => {
    let t: TestApp;
    const pool = new SseClientPool();

    beforeAll(async () => {
      t = await startApp(platform, {
        imports: [SseModule.forRoot({ maxConnections: 1, overload })],
        controllers: [CorsController],
      });
    });
    afterEach(() => pool.closeAll());
    afterAll(() => t.close());

    it('every answer of an allowAllOrigins route carries Access-Control-Allow-Origin: 400, 403, 406, 204 and full', async () => {
      const badId = await rawHttp(`${t.url}/cors?clientId=%0A`);
      expect(badId.status).toBe(400);
      expect(badId.headers[ACAO]).toBe('*');
      const notAcceptable = await rawHttp(`${t.url}/cors`, { headers: { accept: 'application/json' } });
      expect(notAcceptable.status).toBe(406);
      expect(notAcceptable.headers[ACAO]).toBe('*');
      const forbidden = await rawHttp(`${t.url}/cors-refused`);
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers[ACAO]).toBe('*');

      const { clientId } = await pool.connect(`${t.url}/cors`);
      const full = await rawHttp(`${t.url}/cors`);
      expect(full.status).toBe(overload === 'retry' ? 200 : 503);
      if (overload === 'reject') expect(full.headers['retry-after']).toBe('5');
      expect(full.headers[ACAO]).toBe('*');

      await t.app.get(SseHub).close({ name: 'cors', clientId }, { reconnect: false });
      const stopped = await rawHttp(`${t.url}/cors?clientId=${encodeURIComponent(clientId)}`);
      expect(stopped.status).toBe(204);
      expect(stopped.headers[ACAO]).toBe('*');
      // A route without allowAllOrigins sends none, on a refusal as on a stream.
      expect((await rawHttp(`${t.url}/plain?clientId=%0A`)).headers[ACAO]).toBeUndefined();
    });
  });

  describe('an empty Last-Event-ID is no id', () => {
    let t: TestApp;
    let hub: SseHub;
    const pool = new SseClientPool();

    beforeAll(async () => {
      t = await startApp(platform, { imports: [SseModule.forRoot()], controllers: [CorsController] });
      hub = t.app.get(SseHub);
    });
    afterEach(() => pool.closeAll());
    afterAll(() => t.close());

    it('an empty header or query resumes nothing and signals no gap; an empty header does not hide the query', async () => {
      const { client: before, clientId } = await pool.connect(`${t.url}/plain`);
      await hub.send({ name: 'plain', clientId }, [{ data: 'first' }, { data: 'second' }]);
      const [first] = await before.collect('message', 2);
      before.close();
      await before.end();
      const again = `${t.url}/plain?clientId=${encodeURIComponent(clientId)}`;

      // Taken for an id, '' would resume from an unknown position: sse.gap, then both events again.
      for (const [url, headers] of [
        [again, { 'last-event-id': '' }],
        [`${again}&lastEventId=`, {}],
      ] as const) {
        const { client } = await pool.connect(url, { headers });
        await hub.send({ name: 'plain', clientId }, { data: 'live' });
        await client.next('message');
        expect(client.events.map((event) => event.event ?? event.data)).toEqual(['sse.open', 'live']);
        client.close();
        await client.end();
      }

      const { client: resumed } = await pool.connect(`${again}&lastEventId=${encodeURIComponent(first.id!)}`, {
        headers: { 'last-event-id': '' },
      });
      // Resumed from the query's id: everything after "first", and no sse.gap.
      await resumed.collect('message', 3);
      expect(resumed.events.map((event) => event.event ?? event.data)).toEqual(['sse.open', 'second', 'live', 'live']);
    });
  });
});
