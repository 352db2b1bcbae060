import { Controller, Get } from '@nestjs/common';
import { SseConnection, SseModule, type SseRequest } from '../../lib/index.js';
import { platforms, startApp, type TestApp } from '../support/app.js';
import { SseTestClient } from '../../lib/testing.js';

/** What `req.query` held in the group callback, per request (keyed by the x-test-id header). */
const queries = new Map<string, SseRequest['query']>();

// The README's pattern: a room given once is a group; none, or a repeated one, is no group.
const room = (req: SseRequest) => {
  queries.set(String(req.headers['x-test-id']), { ...req.query });
  return typeof req.query.room === 'string' ? req.query.room : undefined;
};

@Controller()
class RoomsController {
  @Get('rooms')
  @SseConnection({ name: 'rooms', group: room })
  open() {}
}

// SseRequest.query is typed Record<string, string | string[] | undefined>: this checks that
// it is what both platforms' default query parsers really give.
describe.each(platforms)('SseRequest.query ($name)', (platform) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(platform, { imports: [SseModule.forRoot()], controllers: [RoomsController] });
  });
  afterAll(() => t.close());

  const open = async (query: string, key: string) => {
    const client = await SseTestClient.connect(t.app, `/rooms${query}`, { headers: { 'x-test-id': `${platform.name}-${key}` } });
    const opened = await client.opened();
    await client.close();
    return { opened, query: queries.get(`${platform.name}-${key}`) };
  };

  it('gives a parameter given once as a string', async () => {
    const { opened, query } = await open('?room=lobby&x=1', 'once');
    expect(query).toEqual({ room: 'lobby', x: '1' });
    expect(opened.group).toBe('lobby');
  });

  it('gives a repeated parameter as an array of strings', async () => {
    const { opened, query } = await open('?room=a&room=b', 'twice');
    expect(query).toEqual({ room: ['a', 'b'] });
    expect(opened.group).toBeNull();
  });

  it('gives bracketed names as plain keys, never nested objects', async () => {
    const { query } = await open('?room[x]=1', 'brackets');
    expect(query).toEqual({ 'room[x]': '1' });
  });

  it('gives no key for a parameter that is absent', async () => {
    const { opened, query } = await open('', 'none');
    expect(query).toEqual({});
    expect(opened.group).toBeNull();
  });
});
