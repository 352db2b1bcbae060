import { AppModule } from '../../sample/app.module.js';
import { platforms, request, startApp, type TestApp } from '../support/app.js';
import { SseTestClient } from '../../lib/testing.js';

// The sample's HTTP side without a browser: what the page relies on, and every bad input a 4xx.

describe.each(platforms)('sample API ($name)', (platform) => {
  let t: TestApp;
  const clients: SseTestClient[] = [];
  const connect = async (query: string): Promise<SseTestClient> => {
    const client = await SseTestClient.connect(t.app, `/events?${query}`);
    clients.push(client);
    return client;
  };
  const asConnection = (client: SseTestClient) => ({
    'x-sse-client-id': String(client.headers['x-sse-client-id']),
    'x-sse-name': 'events',
  });

  beforeAll(async () => {
    t = await startApp(platform, { imports: [AppModule] });
  });
  afterEach(() => Promise.all(clients.splice(0).map((client) => client.close())));
  afterAll(() => t.close());

  it('serves the page, its script and its style', async () => {
    const page = await t.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('<script type="module" src="/app.js">');
    const script = await t.request('/app.js');
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.body).toContain("addEventListener('sse.close'");
    expect((await t.request('/style.css')).headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('hands out a client id that a connection can offer and keep', async () => {
    const { body } = await t.request('/events/client-id');
    expect(body.clientId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const client = await connect(`room=red&clientId=${encodeURIComponent(body.clientId)}`);
    expect(await client.opened()).toEqual({ clientId: body.clientId, name: 'events', group: 'red', groups: ['red'] });
  });

  it('puts a page without a room in the lobby', async () => {
    const client = await connect('');
    expect((await client.opened()).group).toBe('lobby');
  });

  it('refuses a repeated or invalid room with 400', async () => {
    const repeated = await connect('room=a&room=b');
    expect(repeated.status).toBe(400);
    expect(JSON.parse(repeated.body).message).toContain('"room"');
    const tooLong = await connect(`room=${'r'.repeat(257)}`);
    expect(tooLong.status).toBe(400);
    expect(JSON.parse(tooLong.body).message).toContain('nestjs-sse-hub: group');
  });

  it('posts chat to the sender’s room only, named by its connection headers', async () => {
    const red = await connect('room=red');
    const blue = await connect('room=blue');
    await Promise.all([red.opened(), blue.opened()]);
    const sent = await t.request('/api/chat', { method: 'POST', headers: asConnection(red), body: { text: 'hi red' } });
    expect(sent.status).toBe(201);
    expect(sent.body).toEqual({ delivered: 1 });
    const message = (await red.next('chat')).json();
    expect(message).toMatchObject({ room: 'red', from: red.headers['x-sse-client-id'], text: 'hi red' });
    // Blue's own message comes after on its socket; red's would have come first.
    await t.request('/api/chat', { method: 'POST', headers: asConnection(blue), body: { text: 'hi blue' } });
    await blue.next('chat');
    expect(blue.eventsOf('chat').map((event) => (event.json() as { text: string }).text)).toEqual(['hi blue']);
  });

  it('answers chat posts that name no open connection or carry bad text with 4xx', async () => {
    const red = await connect('room=red');
    await red.opened();
    const noHeaders = await t.request('/api/chat', { method: 'POST', body: { text: 'x' } });
    expect(noHeaders.status).toBe(400);
    const unknown = await t.request('/api/chat', {
      method: 'POST',
      headers: { 'x-sse-client-id': 'nobody', 'x-sse-name': 'events' },
      body: { text: 'x' },
    });
    expect(unknown.status).toBe(404);
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 42 }, { text: 'x'.repeat(501) }, { text: 'a\u0000b' }]) {
      const bad = await t.request('/api/chat', { method: 'POST', headers: asConnection(red), body });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toContain('"text"');
    }
  });

  it('sends a notification to one client id, and says 0 when it is not connected', async () => {
    const alice = await connect('room=red');
    const bob = await connect('room=red');
    const { clientId } = await alice.opened();
    await bob.opened();
    const sent = await t.request('/api/notifications', { method: 'POST', body: { clientId, text: 'psst' } });
    expect(sent.body).toEqual({ delivered: 1 });
    expect((await alice.next('notice')).json()).toMatchObject({ text: 'psst' });
    const nobody = await request(`${t.url}/api/notifications`, { method: 'POST', body: { clientId: 'gone', text: 'x' } });
    expect(nobody.body).toEqual({ delivered: 0 });
    // Bob's own notice comes after alice's on his socket: he got only his.
    await t.request('/api/notifications', {
      method: 'POST',
      body: { clientId: bob.headers['x-sse-client-id'], text: 'for bob' },
    });
    await bob.next('notice');
    expect(bob.eventsOf('notice').map((event) => (event.json() as { text: string }).text)).toEqual(['for bob']);
  });

  it('refuses a notification without a valid client id or text with 400', async () => {
    for (const body of [{ text: 'x' }, { clientId: '', text: 'x' }, { clientId: 'a\nb', text: 'x' }, { clientId: 'x'.repeat(257), text: 'x' }, { clientId: 'a' }]) {
      const bad = await t.request('/api/notifications', { method: 'POST', body });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/"(clientId|text)"/);
    }
  });

  it('pushes the clock and server stats to every page', async () => {
    const client = await connect('room=red');
    const stats = (await client.next('clock')).json() as { connections: number };
    expect(stats).toEqual({
      now: expect.any(String),
      uptimeSeconds: expect.any(Number),
      connections: expect.any(Number),
      rooms: expect.arrayContaining(['red']),
      rssMiB: expect.any(Number),
    });
    expect(stats.connections).toBeGreaterThanOrEqual(1);
  });

  it('counts down on a local connection that closes by itself', async () => {
    const client = await SseTestClient.connect(t.app, '/countdown');
    clients.push(client);
    await client.ended({ timeoutMs: 10_000 });
    expect(client.events.map((event) => `${event.type}:${event.data}`)).toEqual([
      expect.stringMatching(/^sse\.open:/),
      'countdown:3',
      'countdown:2',
      'countdown:1',
      'countdown:liftoff',
      'sse.close:{"reason":"server"}',
    ]);
  });
});
