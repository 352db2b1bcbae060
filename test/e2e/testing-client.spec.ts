import { AppModule } from '../../sample/app.module.js';
import type { ServerStats } from '../../sample/events.js';
import { SseHub } from '../../lib/index.js';
import { SseTestClient, SseTestClientError } from '../../lib/testing.js';
import { platforms, request, startApp, type TestApp } from '../support/app.js';

/** The sample's events, typed as an app's tests would type them. */
interface SampleEvents {
  clock: ServerStats;
  notice: { text: string; at: string };
}

// nestjs-sse-hub/testing against the sample app, as a user of the library would test theirs.
describe.each(platforms)('SseTestClient against the sample app ($name)', (platform) => {
  let t: TestApp;
  const clients: SseTestClient[] = [];
  const connect = async (path: string, server: Parameters<typeof SseTestClient.connect>[0] = t.app) => {
    const client = await SseTestClient.connect<SampleEvents>(server, path);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    t = await startApp(platform, { imports: [AppModule] });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(() => t.close());

  it('connects to a listening app, an http.Server or a URL, and reads sse.open', async () => {
    for (const server of [t.app, t.app.getHttpServer(), t.url]) {
      const client = await connect('/events?room=red', server);
      expect(client.status).toBe(200);
      expect(await client.opened()).toEqual({ clientId: client.headers['x-sse-client-id'], name: 'events', group: 'red', groups: ['red'] });
    }
  });

  it('awaits the next typed event, then the following ones, each once', async () => {
    const client = await connect('/events?room=red');
    const first = await client.next('clock');
    expect(first.type).toBe('clock');
    expect(first.json()).toEqual(expect.objectContaining({ rooms: expect.arrayContaining(['red']), connections: expect.any(Number) }));
    const [second, third] = await client.collect('clock', 2);
    // Ids grow in send order: three different ticks, in order.
    expect([first.id! < second.id!, second.id! < third.id!]).toEqual([true, true]);
    expect(client.eventsOf('clock').slice(0, 3)).toEqual([first, second, third]);
    expect(client.lastEventId).toBe(client.events[client.events.length - 1].id);
  });

  it('reconnects with Last-Event-ID and gets what was sent while it was away', async () => {
    const client = await connect('/events?room=blue');
    const { clientId } = await client.opened();
    await client.next('clock');
    await client.close();
    // Closed on our side; wait until the server has seen it go too.
    const hub = t.app.get(SseHub);
    while (await hub.exists({ name: 'events', clientId })) await new Promise((resolve) => setTimeout(resolve, 5));
    const sent = await request(`${t.url}/api/notifications`, { method: 'POST', body: { clientId, text: 'while you were away' } });
    expect(sent.body).toEqual({ delivered: 0 });
    const before = client.lastEventId!;
    await client.reconnect({ keepClientId: true });
    expect((await client.opened()).clientId).toBe(clientId);
    // Only a replay from `before` can bring it: nobody was connected when it was sent.
    const notice = await client.next('notice');
    expect(notice.json().text).toBe('while you were away');
    expect(notice.id! > before).toBe(true);
    expect(client.eventsOf('sse.gap')).toEqual([]);
  });

  it('rejects with SseTestClientError when the event does not come in time', async () => {
    const client = await connect('/events?room=red');
    await client.opened();
    const waiting = client.next('no-such-event', { timeoutMs: 50 });
    await expect(waiting).rejects.toThrow(SseTestClientError);
    await expect(waiting).rejects.toThrow(/no "no-such-event" event within 50 ms; received so far: sse\.open/);
  });

  it('rejects at once when the response ends first, and keeps a refusal’s status and body', async () => {
    const client = await connect('/events?room=a&room=b');
    expect(client.status).toBe(400);
    expect(JSON.parse(client.body).message).toContain('"room"');
    // The default wait is 5 s: a rejection that names the end is not the timeout.
    await expect(client.next('clock')).rejects.toThrow(/the response \(status 400\) ended before "clock" event/);
  });

  it('refuses a server it cannot connect to with a clear error', async () => {
    await expect(SseTestClient.connect({ getUrl: () => Promise.reject(new Error('not listening')) }, '/events')).rejects.toThrow(
      'nestjs-sse-hub: SseTestClient.connect needs an app that listens',
    );
    await expect(SseTestClient.connect(42 as never, '/events')).rejects.toThrow(SseTestClientError);
  });
});
