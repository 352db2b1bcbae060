import { Test } from '@nestjs/testing';
import { MemoryTransport, SSE_TRANSPORT, SseInvalidArgumentError, SseModule, type SseTransport } from '../../lib/index.js';
import { RedisTransport } from '../../lib/redis.js';

describe('transport options', () => {
  it('uses a MemoryTransport when no transport is given, and the given one otherwise', async () => {
    const plain = await Test.createTestingModule({ imports: [SseModule.forRoot()] }).compile();
    expect(plain.get(SSE_TRANSPORT)).toBeInstanceOf(MemoryTransport);
    const mine = new MemoryTransport();
    const given = await Test.createTestingModule({ imports: [SseModule.forRoot({ transport: mine })] }).compile();
    expect(given.get(SSE_TRANSPORT)).toBe(mine);
    const asynchronous = await Test.createTestingModule({
      imports: [SseModule.forRootAsync({ useFactory: async () => ({ transport: mine }) })],
    }).compile();
    expect(asynchronous.get(SSE_TRANSPORT)).toBe(mine);
  });

  it('refuses a transport that is not an SseTransport, naming what is missing', async () => {
    const notATransport = { connect: async () => undefined } as unknown as SseTransport;
    const compiling = Test.createTestingModule({ imports: [SseModule.forRoot({ transport: notATransport })] }).compile();
    await expect(compiling).rejects.toBeInstanceOf(SseInvalidArgumentError);
    await expect(
      Test.createTestingModule({ imports: [SseModule.forRoot({ transport: notATransport })] }).compile(),
    ).rejects.toThrow(/nestjs-sse-hub: option transport .*no disconnect\(\) found/);
  });

  it.each([
    [{ url: '' }, /RedisTransport url/],
    [{ url: 'redis://x', keyPrefix: 3 as unknown as string }, /keyPrefix/],
    [{ url: 'redis://x', presenceTtl: 0 }, /presenceTtl/],
    [{ url: 'redis://x', presenceTtl: 1.5 }, /presenceTtl/],
    [{ url: 'redis://x', commandTimeout: -1 }, /commandTimeout/],
    [{ url: 'redis://x', closeTimeout: Number.NaN }, /closeTimeout/],
    [{ url: 'redis://x', streamLength: 0 }, /streamLength/],
  ])('RedisTransport refuses %j with a typed error', (options, message) => {
    expect(() => new RedisTransport(options)).toThrow(SseInvalidArgumentError);
    expect(() => new RedisTransport(options)).toThrow(message);
  });

  it('RedisTransport connects to nothing until the module starts it', () => {
    // Constructing one (e.g. in a module's options) opens no socket: nothing to close here.
    expect(() => new RedisTransport({ url: 'redis://127.0.0.1:1' })).not.toThrow();
  });
});
