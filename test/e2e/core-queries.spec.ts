import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseContext, SseInvalidArgumentError, SseModule, type SseTarget } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';

@Controller()
class QueriesController {
  @Get('local')
  @SseConnection({ name: 'local-only', scope: 'local' })
  async local(@SseContext() ctx: SseContext) {
    await ctx.send({ data: 'hello' });
    // Pending forever: the connection stays open until the client leaves.
    await new Promise<void>(() => undefined);
  }
}

// What every transport must answer (names, groups, clientIds, hasName, exists, count; replacement;
// a name gone with its last client) is in the conformance suite (test/support/transport-conformance.ts).

describe.each(platforms)('queries: local connections and bad arguments ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [QueriesController] }));

  it('local connections are neither addressable nor counted', async () => {
    const { client, clientId } = await t.connect('/local');
    await client.next('message');
    expect(await t.hub.names()).toEqual([]);
    expect(await t.hub.hasName('local-only')).toBe(false);
    expect(await t.hub.count()).toBe(0);
    expect(await t.hub.exists({ name: 'local-only', clientId })).toBe(false);
    expect(await t.hub.send({ name: 'local-only' }, { data: 'x' })).toEqual({ delivered: 0 });
    expect(await t.hub.close({ name: 'local-only' })).toBe(0);
    // Proof that the send and the close reached nothing: the stream is still open, with only its first event.
    expect(client.ended).toBe(false);
    expect(client.dataOf('message')).toEqual(['hello']);
  });

  it('exists needs a client id; the queries refuse bad names', async () => {
    await expect(t.hub.exists({ name: 'events' })).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(t.hub.exists({ name: 'events' })).rejects.toThrow(/nestjs-sse-hub: exists\(\) needs a target with a clientId/);
    await expect(t.hub.groups('')).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(t.hub.hasName('a\nb')).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(t.hub.clientIds({ name: [] })).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(t.hub.count({} as SseTarget)).rejects.toBeInstanceOf(SseInvalidArgumentError);
  });
});
