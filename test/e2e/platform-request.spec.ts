import { Controller, Get, Req } from '@nestjs/common';
import { SseConnection, SseModule, type SseRequest } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';

/** What each callback was called with, per request (keyed by the x-test-id header). */
const seen = new Map<string, { group?: SseRequest; clientId?: SseRequest; handler?: object }>();

const record = (req: SseRequest, role: 'group' | 'clientId'): void => {
  const key = String(req.headers['x-test-id']);
  seen.set(key, { ...seen.get(key), [role]: req });
};

@Controller()
class RoomsController {
  @Get('rooms')
  @SseConnection({
    name: 'rooms',
    group: (req: SseRequest) => {
      record(req, 'group');
      return (req.query as Record<string, string | undefined>).room;
    },
    clientId: (req: SseRequest) => {
      record(req, 'clientId');
      const user = req.headers['x-user'];
      return typeof user === 'string' ? `user-${user}` : undefined;
    },
  })
  open(@Req() req: object) {
    const key = String((req as SseRequest).headers['x-test-id']);
    seen.set(key, { ...seen.get(key), handler: req });
  }
}

describe.each(platforms)('group and clientId callbacks ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [RoomsController] }));

  it('read req.query and req.headers of the platform request', async () => {
    const { client, ...open } = await t.connect('/rooms?room=lobby', {
      headers: { 'x-user': '42', 'x-test-id': `${platform.name}-1` },
    });
    expect(open).toEqual({ name: 'rooms', group: 'lobby', groups: ['lobby'], clientId: 'user-42' });
    expect(client.headers['x-sse-group']).toBe('lobby');
    expect(client.headers['x-sse-client-id']).toBe('user-42');
  });

  it('receive the same request object the handler gets with @Req()', async () => {
    const key = `${platform.name}-2`;
    await t.connect('/rooms?room=a', { headers: { 'x-test-id': key } });
    const calls = seen.get(key)!;
    expect(calls.handler).toBeDefined();
    expect(calls.group).toBe(calls.handler);
    expect(calls.clientId).toBe(calls.handler);
  });

  it('may leave the group and client id undefined', async () => {
    const { client, ...open } = await t.connect('/rooms', { headers: { 'x-test-id': `${platform.name}-3` } });
    expect(open.group).toBeNull();
    expect(open.clientId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(client.headers['x-sse-group']).toBeUndefined();
  });
});
