import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();

describe('packaging', () => {
  beforeAll(() => {
    // The built package, as a user installs it (resolved through its own "exports").
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root });
  }, 120_000);

  it('loads with require() from a CommonJS app', () => {
    const names = node(['-e', "require('reflect-metadata'); console.log(Object.keys(require('nestjs-sse-hub')).sort().join(','))"]);
    expect(names.split(',')).toEqual(expect.arrayContaining(['SseModule', 'SseHub', 'SseConnection', 'SseContext']));
  });

  it('loads with import from an ES module', () => {
    const names = node([
      '--input-type=module',
      '-e',
      "import 'reflect-metadata'; const m = await import('nestjs-sse-hub'); console.log(Object.keys(m).sort().join(','))",
    ]);
    expect(names.split(',')).toEqual(expect.arrayContaining(['SseModule', 'SseHub', 'OnSseConnect', 'SseInvalidArgumentError']));
  });

  it('exports only the curated API (no internals)', () => {
    const names = node(['-e', "require('reflect-metadata'); console.log(Object.keys(require('nestjs-sse-hub')).join(','))"]);
    expect(names).not.toMatch(/Registry|Interceptor|Factory|Settings|Explorer/);
  });

  it('loads nestjs-sse-hub/redis with require() and with import', () => {
    const required = node(['-e', "require('reflect-metadata'); console.log(typeof require('nestjs-sse-hub/redis').RedisTransport)"]);
    expect(required).toBe('function');
    const imported = node([
      '--input-type=module',
      '-e',
      "import 'reflect-metadata'; const { RedisTransport } = await import('nestjs-sse-hub/redis'); console.log(typeof RedisTransport, new RedisTransport({ url: 'redis://127.0.0.1:1' }).constructor.name)",
    ]);
    expect(imported).toBe('function RedisTransport');
  });

  it('ships types for both entry points', () => {
    for (const file of ['dist/index.d.ts', 'dist/redis.d.ts']) {
      expect(node(['-e', `console.log(require('node:fs').existsSync(${JSON.stringify(file)}))`])).toBe('true');
    }
  });

  it('does not load ioredis for apps on the in-memory default', () => {
    const loaded = node([
      '-e',
      "require('reflect-metadata'); require('nestjs-sse-hub'); console.log(Object.keys(require.cache).some((f) => f.includes('/node_modules/ioredis/')))",
    ]);
    expect(loaded).toBe('false');
    const withRedis = node([
      '-e',
      "require('reflect-metadata'); require('nestjs-sse-hub/redis'); console.log(Object.keys(require.cache).some((f) => f.includes('/node_modules/ioredis/')))",
    ]);
    // The check above can fail: loading the Redis entry does show ioredis in the cache.
    expect(withRedis).toBe('true');
  });
});
