import {
  Controller,
  Get,
  Injectable,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { SseConnection, SseHub, SseModule, type SseLifecycleEvent, type SseRequest } from '../../lib/index.js';
import { platforms, useApp } from '../support/app.js';
import { rawHttp } from '../support/raw-http.js';

const SECRET = 'a-secret-of-32-characters-long!!';
let handlerRuns = 0;

/** Stands for the application's authentication: a bearer token names the user. */
@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<SseRequest>();
    if (request.headers.authorization === undefined) throw new UnauthorizedException('log in first');
    return request.headers.authorization === 'Bearer alice' || request.headers.authorization === 'Bearer bob';
  }
}

const queryOf = (request: SseRequest) => request.query as Record<string, string | undefined>;

@Controller()
class SecurityController {
  @Get('events')
  @SseConnection({ name: 'events' })
  open() {
    handlerRuns++;
  }

  @Get('open-to-all')
  @SseConnection({ name: 'public', allowAllOrigins: true })
  openToAll() {}

  @Get('rooms')
  @SseConnection({ name: 'rooms', group: (request: SseRequest) => queryOf(request).room })
  openRoom() {}

  @Get('private')
  @UseGuards(TokenGuard)
  @SseConnection({ name: 'private', clientId: (request: SseRequest) => String(request.headers.authorization).slice(7) })
  openPrivate() {
    handlerRuns++;
  }
}

/** Resolves once `count` events of this type have been seen (registered before the actions). */
function lifecycleOf(hub: SseHub): SseLifecycleEvent[] {
  const seen: SseLifecycleEvent[] = [];
  hub.events$.subscribe((event) => seen.push(event));
  return seen;
}

describe.each(platforms)('hardening: security ($name)', (platform) => {
  describe('CORS', () => {
    const t = useApp(platform, () => ({ imports: [SseModule.forRoot()], controllers: [SecurityController] }));

    it('closed by default: no Access-Control-Allow-Origin on the stream, whatever the Origin', async () => {
      const { client } = await t.connect('/events', { headers: { origin: 'http://evil.example' } });
      expect(client.headers['access-control-allow-origin']).toBeUndefined();
      expect(client.headers['access-control-allow-credentials']).toBeUndefined();
    });

    it('closed by default: a preflight gets no CORS approval', async () => {
      const preflight = await rawHttp(`${t.url}/events`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://evil.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-sse-client-id',
        },
      });
      expect(preflight.stream).toBe(false);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.headers['access-control-allow-headers']).toBeUndefined();
    });

    it('allowAllOrigins on a route sends Access-Control-Allow-Origin: * there only', async () => {
      const { client } = await t.connect('/open-to-all', { headers: { origin: 'http://any.example' } });
      expect(client.headers['access-control-allow-origin']).toBe('*');
      // There only: the other routes of the same app send none.
      const other = await t.connect('/events', { headers: { origin: 'http://any.example' } });
      expect(other.client.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('CORS configured by the application', () => {
    const t = useApp(
      platform,
      () => ({ imports: [SseModule.forRoot()], controllers: [SecurityController] }),
      { setup: (app) => app.enableCors({ origin: ['http://good.example'] }) },
    );

    it('the allowed origin gets its Access-Control-Allow-Origin on the stream; another origin gets none', async () => {
      const good = (await t.connect('/events', { headers: { origin: 'http://good.example' } })).client;
      expect(good.headers['access-control-allow-origin']).toBe('http://good.example');
      const evil = (await t.connect('/events', { headers: { origin: 'http://evil.example' } })).client;
      expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('guards, signed ids, echoes', () => {
    const t = useApp(platform, () => ({
      imports: [SseModule.forRoot({ signing: { secret: SECRET } })],
      controllers: [SecurityController],
    }));
    let lifecycle: SseLifecycleEvent[];
    beforeAll(() => {
      lifecycle = lifecycleOf(t.hub);
    });
    beforeEach(() => {
      handlerRuns = 0;
      lifecycle.length = 0;
    });

    it('a guard that throws → 401 with its message before any stream; nothing registered, handler not run', async () => {
      const refused = await rawHttp(`${t.url}/private`, { headers: { accept: 'text/event-stream' } });
      expect(refused.stream).toBe(false);
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body).message).toBe('log in first');
      expect(handlerRuns).toBe(0);
      expect(lifecycle).toEqual([]);
      expect(await t.hub.hasName('private')).toBe(false);
    });

    it('a guard that answers false → 403 before any stream', async () => {
      const refused = await rawHttp(`${t.url}/private`, { headers: { authorization: 'Bearer mallory' } });
      expect(refused.stream).toBe(false);
      expect(refused.status).toBe(403);
      expect(handlerRuns).toBe(0);
      expect(lifecycle).toEqual([]);
    });

    it('a route-derived id wins: offering another user\'s id does not take over their connection', async () => {
      const { client: alice, clientId: aliceId } = await t.connect('/private', { headers: { authorization: 'Bearer alice' } });
      const { client: bob, clientId: bobId } = await t.connect('/private', {
        headers: { authorization: 'Bearer bob', 'x-sse-client-id': aliceId },
      });
      expect(bobId).not.toBe(aliceId);
      expect(await t.hub.send({ name: 'private', clientId: aliceId }, { data: 'for alice' })).toEqual({ delivered: 1 });
      expect((await alice.next('message')).data).toBe('for alice');
      expect(bob.eventsOf('message')).toEqual([]);
      expect(alice.eventsOf('sse.close')).toEqual([]);
    });

    it('a client cannot take over another\'s signed id by stripping, altering or transplanting the signature', async () => {
      const { client: victim, clientId: signed } = await t.connect('/events');
      expect(t.hub.isClientIdSigned(signed)).toBe(true);
      const raw = signed.slice(2, signed.lastIndexOf('.'));
      const signature = signed.slice(signed.lastIndexOf('.') + 1);
      const flipped = signature[0] === 'A' ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
      const attempts = [
        raw, // the bare id
        `s:${raw}.${flipped}`, // one character of the signature changed
        `s:${raw}x.${signature}`, // another id with the victim's signature
        `s:${raw}.${signature}x`, // signature extended
        `s:${raw}.`, // no signature
      ];
      for (const attempt of attempts) {
        const refused = await rawHttp(`${t.url}/events`, { headers: { 'x-sse-client-id': attempt } });
        expect({ attempt, status: refused.status, stream: refused.stream }).toEqual({ attempt, status: 400, stream: false });
      }
      // The victim was never replaced and is still reachable.
      expect(victim.eventsOf('sse.close')).toEqual([]);
      expect(await t.hub.exists({ name: 'events', clientId: signed })).toBe(true);
      await t.hub.send({ name: 'events', clientId: signed }, { data: 'still yours' });
      expect((await victim.next('message')).data).toBe('still yours');
    });

    it('client ids are 128 random bits', async () => {
      const { clientId: signed } = await t.connect('/events');
      const fromStream = signed.slice(2, signed.lastIndexOf('.'));
      expect(Buffer.from(fromStream, 'base64url')).toHaveLength(16);
      expect(Buffer.from(fromStream, 'base64url').toString('base64url')).toBe(fromStream);

      const ids = Array.from({ length: 4000 }, () => {
        const id = t.hub.newClientId();
        return id.slice(2, id.lastIndexOf('.'));
      });
      expect(new Set(ids).size).toBe(ids.length);
      let ones = 0;
      const perBit = new Array<number>(128).fill(0);
      for (const id of ids) {
        const bytes = Buffer.from(id, 'base64url');
        expect(bytes).toHaveLength(16);
        for (let bit = 0; bit < 128; bit++) {
          const set = (bytes[bit >> 3] >> (bit & 7)) & 1;
          ones += set;
          perBit[bit] += set;
        }
      }
      // 512,000 fair bits: the share of ones is 0.5 ± 0.0007 (1 σ); each bit 0.5 ± 0.008.
      expect(ones / (ids.length * 128)).toBeGreaterThan(0.49);
      expect(ones / (ids.length * 128)).toBeLessThan(0.51);
      // A stuck bit (always 0 or 1), i.e. fewer than 128 random bits, would be far outside this band.
      for (const count of perBit) {
        expect(count / ids.length).toBeGreaterThan(0.4);
        expect(count / ids.length).toBeLessThan(0.6);
      }
    });

    it.each([
      ['quotes, backslash and markup', 'a"b\\c</script><img src=x>{"name":"evil"}'],
      ['JSON breakers and unicode', '"},{"clientId":"x\u2028\u2029é😀'],
      ['SSE field look-alikes', 'event: sse.close data: {}'],
    ])('a group with %s is JSON-escaped in sse.open, never breaking the frame', async (_what, room) => {
      const { client, ...open } = await t.connect(`/rooms?room=${encodeURIComponent(room)}`);
      expect(open).toEqual({ clientId: expect.any(String), name: 'rooms', group: room, groups: [room] });
      expect(client.events).toHaveLength(1);
      // Headers carry it too, as the raw visible ASCII or percent-encoded.
      const header = String(client.headers['x-sse-group']);
      expect(header === room || decodeURIComponent(header) === room).toBe(true);
    });

    it.each([['%0A'], ['%0D'], ['%00'], ['a%0D%0Aevent:%20x']])('a group with %s → 400, no stream', async (room) => {
      const refused = await rawHttp(`${t.url}/rooms?room=${room}`);
      expect(refused.stream).toBe(false);
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body).message).toMatch(/group .* is invalid/);
    });
  });

  describe('strict signing', () => {
    const t = useApp(platform, () => ({
      imports: [SseModule.forRoot({ signing: { secret: SECRET, strict: true } })],
      controllers: [SecurityController],
    }));

    it('a stolen id is refused from another user agent or another address; the owner may reconnect with it', async () => {
      const { client: owner, clientId: id } = await t.connect('/events', { headers: { 'user-agent': 'agent-A' } });
      owner.close();
      await owner.end();

      const otherAgent = await rawHttp(`${t.url}/events`, { headers: { 'user-agent': 'agent-B', 'x-sse-client-id': id } });
      expect(otherAgent.status).toBe(400);
      expect(otherAgent.stream).toBe(false);
      expect(JSON.parse(otherAgent.body).message).toMatch(/signature is not valid/);

      // 127.0.0.2 is another loopback address: the server sees another remote address.
      const otherAddress = await rawHttp(`${t.url}/events`, {
        headers: { 'user-agent': 'agent-A', 'x-sse-client-id': id },
        localAddress: '127.0.0.2',
      });
      expect(otherAddress.status).toBe(400);
      expect(otherAddress.stream).toBe(false);

      const again = await t.connect('/events', { headers: { 'user-agent': 'agent-A', 'x-sse-client-id': id } });
      expect(again.clientId).toBe(id);
    });
  });
});
