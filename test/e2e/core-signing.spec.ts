import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { SseConnection, SseContext, SseInvalidArgumentError, SseModule } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { queryParam } from '../support/request-params.js';

const SECRET = 'a-secret-of-more-than-16-chars';
const SIGNED_ID = /^s:([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

@Controller()
class SigningController {
  @Get('events')
  @SseConnection({ name: 'events' })
  events() {}

  @Get('users')
  @SseConnection({ name: 'users', clientId: (req) => queryParam(req, 'user') })
  users() {}

  @Post('reply')
  @HttpCode(200)
  async reply(@SseContext() ctx: SseContext) {
    await ctx.send({ event: 'reply', data: 'ok' });
    return { clientId: ctx.clientId };
  }
}

/** The same id with its last signature character changed. */
const tamper = (id: string) => id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A');

describe.each(platforms)('signed client ids ($name)', (platform) => {
  const t = useApp(platform, () => ({
    imports: [SseModule.forRoot({ signing: { secret: SECRET } })],
    controllers: [SigningController],
  }));

  it('issues signed ids: s:<128-bit id>.<HMAC-SHA256>', async () => {
    const { client, clientId } = await t.connect('/events');
    expect(clientId).toMatch(SIGNED_ID);
    expect(client.headers['x-sse-client-id']).toBe(clientId);
    expect(t.hub.isClientIdSigned(clientId)).toBe(true);
    expect(t.hub.isClientIdValid(clientId)).toBe(true);
  });

  it('accepts its own signed id offered again on reconnect, by header and by query', async () => {
    const first = await t.connect('/events');
    first.client.close();
    const byHeader = await t.connect('/events', { headers: { 'x-sse-client-id': first.clientId } });
    expect(byHeader.clientId).toBe(first.clientId);
    const byQuery = await t.connect(`/events?clientId=${encodeURIComponent(first.clientId)}`);
    expect(byQuery.clientId).toBe(first.clientId);
    // The query one replaced the header one: same id under the same name.
    await byHeader.client.end();
    expect(byHeader.client.eventsOf('sse.close').map((e) => JSON.parse(e.data))).toEqual([{ reason: 'replaced' }]);
    expect(await t.hub.exists({ name: 'events', clientId: first.clientId })).toBe(true);
  });

  async function expectRefused(offered: string, message: RegExp) {
    const client = await t.open('/events', { headers: { 'x-sse-client-id': offered } });
    await client.end();
    expect(client.status).toBe(400);
    expect(JSON.parse(client.body).message).toMatch(message);
    expect(client.events).toEqual([]);
  }

  it('refuses a forged signature with 400', async () => {
    const { clientId } = await t.connect('/events');
    await expectRefused(tamper(clientId), /^nestjs-sse-hub: the client id's signature is not valid/);
    // Another id under a real signature.
    const signature = clientId.slice(clientId.lastIndexOf('.'));
    await expectRefused(`s:someone-else${signature}`, /signature is not valid/);
    // A real id signed with another secret.
    await expectRefused('s:abc.' + 'x'.repeat(43), /signature is not valid/);
  });

  it('refuses an unsigned id while signing is on with 400 (Pode would accept it)', async () => {
    await expectRefused('plain-id', /^nestjs-sse-hub: the client id is not signed/);
    await expectRefused('s:no-signature', /not signed/);
  });

  it('signs an id derived by the route', async () => {
    const { clientId } = await t.connect('/users?user=alice');
    expect(clientId.startsWith('s:alice.')).toBe(true);
    expect(clientId).toBe(t.hub.newClientId('alice'));
    expect(t.hub.isClientIdValid(clientId)).toBe(true);
  });

  it('newClientId, isClientIdSigned and isClientIdValid', () => {
    const fresh = t.hub.newClientId();
    expect(fresh).toMatch(SIGNED_ID);
    expect(t.hub.newClientId()).not.toBe(fresh);
    expect(t.hub.newClientId('bob')).toBe(t.hub.newClientId('bob'));
    expect(t.hub.newClientId(fresh)).toBe(fresh);
    expect(() => t.hub.newClientId(tamper(fresh))).toThrow(SseInvalidArgumentError);
    expect(() => t.hub.newClientId('')).toThrow(SseInvalidArgumentError);

    expect(t.hub.isClientIdSigned('bob')).toBe(false);
    expect(t.hub.isClientIdSigned('s:bob.sig')).toBe(true);
    expect(t.hub.isClientIdValid('bob')).toBe(false);
    expect(t.hub.isClientIdValid('s:bob.sig')).toBe(false);
    expect(t.hub.isClientIdValid(tamper(fresh))).toBe(false);
  });

  it('a normal request naming its connection must carry a valid signed id', async () => {
    const { client, clientId } = await t.connect('/events');
    const reply = (id: string) => t.request('/reply', { method: 'POST', headers: { 'x-sse-name': 'events', 'x-sse-client-id': id } });
    const forged = await reply(tamper(clientId));
    expect(forged.status).toBe(400);
    expect(forged.body.message).toMatch(/signature is not valid/);
    expect((await reply('unsigned')).status).toBe(400);
    const ok = await reply(clientId);
    expect(ok.status).toBe(200);
    await client.next('reply');
    expect(client.eventsOf('reply')).toHaveLength(1);
  });
});

describe.each(platforms)('strict signing binds ids to the user agent ($name)', (platform) => {
  const t = useApp(platform, () => ({
    imports: [SseModule.forRoot({ signing: { secret: SECRET, strict: true } })],
    controllers: [SigningController],
  }));

  it('accepts the id from the same user agent and refuses it from another with 400', async () => {
    const first = await t.connect('/events', { headers: { 'user-agent': 'agent-A' } });
    const same = await t.connect('/events', {
      headers: { 'user-agent': 'agent-A', 'x-sse-client-id': first.clientId },
    });
    expect(same.clientId).toBe(first.clientId);
    const other = await t.open('/events', { headers: { 'user-agent': 'agent-B', 'x-sse-client-id': first.clientId } });
    await other.end();
    expect(other.status).toBe(400);
    expect(JSON.parse(other.body).message).toMatch(/signature is not valid/);
  });

  it('a normal request from another user agent cannot name the connection', async () => {
    const { clientId } = await t.connect('/events', { headers: { 'user-agent': 'agent-A' } });
    const reply = (agent: string) =>
      t.request('/reply', {
        method: 'POST',
        headers: { 'user-agent': agent, 'x-sse-name': 'events', 'x-sse-client-id': clientId },
      });
    expect((await reply('agent-B')).status).toBe(400);
    expect((await reply('agent-A')).status).toBe(200);
  });

  it('newClientId / isClientIdValid take the binding', () => {
    const binding = { userAgent: 'agent-A', remoteAddress: '10.0.0.1' };
    const id = t.hub.newClientId('carol', binding);
    expect(t.hub.isClientIdValid(id, binding)).toBe(true);
    expect(t.hub.isClientIdValid(id, { ...binding, userAgent: 'agent-B' })).toBe(false);
    expect(t.hub.isClientIdValid(id, { ...binding, remoteAddress: '10.0.0.2' })).toBe(false);
    expect(t.hub.isClientIdValid(id)).toBe(false);
  });
});

describe.each(platforms)('client ids without signing ($name)', (platform) => {
  const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [SigningController] }));

  it('newClientId gives 128-bit random ids; any well-formed id is valid', () => {
    const ids = new Set(Array.from({ length: 50 }, () => t.hub.newClientId()));
    expect(ids.size).toBe(50);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
    expect(t.hub.newClientId('mine')).toBe('mine');
    expect(t.hub.isClientIdSigned('mine')).toBe(false);
    expect(t.hub.isClientIdValid('mine')).toBe(true);
    expect(t.hub.isClientIdValid('s:looks.signed')).toBe(true);
    expect(t.hub.isClientIdValid('')).toBe(false);
    expect(t.hub.isClientIdValid('a\nb')).toBe(false);
    expect(() => t.hub.newClientId('a\u0000b')).toThrow(SseInvalidArgumentError);
  });
});
