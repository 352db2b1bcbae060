import { AppModule } from '../../sample/app.module.js';
import { platforms, request, startApp, type TestApp } from '../support/app.js';
import { SseClient } from '../support/sse-client.js';

// The sample's HTTP side without a browser: what the page relies on, and every bad input a 4xx.

describe.each(platforms)('sample API ($name)', (platform) => {
  let t: TestApp;
  const clients: SseClient[] = [];
  const connect = async (query: string): Promise<SseClient> => {
    const client = await SseClient.open(`${t.url}/events?${query}`);
    clients.push(client);
    return client;
  };
  const asConnection = (client: SseClient) => ({
    'x-sse-client-id': String(client.headers['x-sse-client-id']),
    'x-sse-name': 'events',
  });

  beforeAll(async () => {
    t = await startApp(platform, { imports: [AppModule] });
  });
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(() => t.close());

  it('serves the page, its script and its style', async () => {
    const page = await request(`${t.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('<script type="module" src="/app.js">');
    const script = await request(`${t.url}/app.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.body).toContain("addEventListener('sse.close'");
    expect((await request(`${t.url}/style.css`)).headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('serves nestjs-sse-hub/client as one ES module the page imports', async () => {
    const client = await request(`${t.url}/client.js`);
    expect(client.status).toBe(200);
    expect(client.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(client.body).toMatch(/export\s*\{[^}]*\bconnect\b/);
    expect(client.body).not.toMatch(/^import /m);
    expect((await request(`${t.url}/app.js`)).body).toContain("import { connect } from '/client.js';");
  });

  it('belongs to the user of its cookie, and a notice to that user reaches every tab of it', async () => {
    const headers = { cookie: 'other=1; sample-user=ann' };
    const tabs = await Promise.all([1, 2].map(() => SseClient.open(`${t.url}/events`, { headers })));
    clients.push(...tabs);
    const stranger = await connect('');
    for (const tab of tabs) expect((await tab.opened()).user).toBe('ann');
    expect((await stranger.opened()).user).toBeUndefined();
    const sent = await request(`${t.url}/api/notifications`, { method: 'POST', body: { user: 'ann', text: 'to both' } });
    expect(sent.body).toEqual({ delivered: 2 });
    for (const tab of tabs) expect(JSON.parse((await tab.next('notice')).data).text).toBe('to both');
  });

  it('joins and leaves rooms at run time, for the connection its headers name', async () => {
    const page = await connect('room=red');
    const other = await connect('room=blue');
    await Promise.all([page.opened(), other.opened()]);
    const join = await request(`${t.url}/api/rooms/join`, { method: 'POST', headers: asConnection(page), body: { room: 'blue' } });
    expect(join).toMatchObject({ status: 200, body: { room: 'blue' } });
    await request(`${t.url}/api/chat`, { method: 'POST', headers: asConnection(other), body: { room: 'blue', text: 'hi blue' } });
    expect(JSON.parse((await page.next('chat')).data)).toMatchObject({ room: 'blue', text: 'hi blue' });
    await request(`${t.url}/api/rooms/leave`, { method: 'POST', headers: asConnection(page), body: { room: 'blue' } });
    await request(`${t.url}/api/chat`, { method: 'POST', headers: asConnection(other), body: { room: 'blue', text: 'gone?' } });
    await request(`${t.url}/api/chat`, { method: 'POST', headers: asConnection(page), body: { text: 'red after' } });
    // Had "gone?" reached the page, it would come before "red after" on its socket.
    await page.waitFor(() => page.eventsOf('chat').length >= 2, 'red after');
    expect(page.eventsOf('chat').map((event) => JSON.parse(event.data).text)).toEqual(['hi blue', 'red after']);
    // Not a member: refused.
    const outsider = await request(`${t.url}/api/chat`, { method: 'POST', headers: asConnection(page), body: { room: 'blue', text: 'x' } });
    expect(outsider.status).toBe(400);
    const badRoom = await request(`${t.url}/api/rooms/join`, { method: 'POST', headers: asConnection(page), body: { room: 'a b' } });
    expect(badRoom.status).toBe(400);
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
    const sent = await request(`${t.url}/api/chat`, { method: 'POST', headers: asConnection(red), body: { text: 'hi red' } });
    expect(sent.status).toBe(201);
    expect(sent.body).toEqual({ delivered: 1 });
    const message = JSON.parse((await red.next('chat')).data);
    expect(message).toMatchObject({ room: 'red', from: red.headers['x-sse-client-id'], text: 'hi red' });
    // Blue's own message comes after on its socket; red's would have come first.
    await request(`${t.url}/api/chat`, { method: 'POST', headers: asConnection(blue), body: { text: 'hi blue' } });
    await blue.next('chat');
    expect(blue.eventsOf('chat').map((event) => JSON.parse(event.data).text)).toEqual(['hi blue']);
  });

  it('answers chat posts that name no open connection or carry bad text with 4xx', async () => {
    const red = await connect('room=red');
    await red.opened();
    const noHeaders = await request(`${t.url}/api/chat`, { method: 'POST', body: { text: 'x' } });
    expect(noHeaders.status).toBe(400);
    const unknown = await request(`${t.url}/api/chat`, {
      method: 'POST',
      headers: { 'x-sse-client-id': 'nobody', 'x-sse-name': 'events' },
      body: { text: 'x' },
    });
    expect(unknown.status).toBe(404);
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 42 }, { text: 'x'.repeat(501) }, { text: 'a\u0000b' }]) {
      const bad = await request(`${t.url}/api/chat`, { method: 'POST', headers: asConnection(red), body });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toContain('"text"');
    }
  });

  it('sends a notification to one client id, and says 0 when it is not connected', async () => {
    const alice = await connect('room=red');
    const bob = await connect('room=red');
    const { clientId } = await alice.opened();
    await bob.opened();
    const sent = await request(`${t.url}/api/notifications`, { method: 'POST', body: { clientId, text: 'psst' } });
    expect(sent.body).toEqual({ delivered: 1 });
    expect(JSON.parse((await alice.next('notice')).data).text).toBe('psst');
    const nobody = await request(`${t.url}/api/notifications`, { method: 'POST', body: { clientId: 'gone', text: 'x' } });
    expect(nobody.body).toEqual({ delivered: 0 });
    // Bob's own notice comes after alice's on his socket: he got only his.
    await request(`${t.url}/api/notifications`, {
      method: 'POST',
      body: { clientId: bob.headers['x-sse-client-id'], text: 'for bob' },
    });
    await bob.next('notice');
    expect(bob.eventsOf('notice').map((event) => JSON.parse(event.data).text)).toEqual(['for bob']);
  });

  it('refuses a notification without a valid client id or text with 400', async () => {
    for (const body of [{ text: 'x' }, { clientId: '', text: 'x' }, { clientId: 'a\nb', text: 'x' }, { clientId: 'x'.repeat(257), text: 'x' }, { clientId: 'a' }]) {
      const bad = await request(`${t.url}/api/notifications`, { method: 'POST', body });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/"(clientId|text)"/);
    }
  });

  it('pushes the clock and server stats to every page', async () => {
    const client = await connect('room=red');
    const stats = JSON.parse((await client.next('clock')).data);
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
    const client = await SseClient.open(`${t.url}/countdown`);
    await client.end();
    expect(client.events.map((event) => `${event.event}:${event.data}`)).toEqual([
      expect.stringMatching(/^sse\.open:/),
      'countdown:3',
      'countdown:2',
      'countdown:1',
      'countdown:liftoff',
      'sse.close:{"reason":"server"}',
    ]);
  });
});
