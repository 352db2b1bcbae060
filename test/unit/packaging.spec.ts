import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
  peerDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

describe('packaging', () => {
  beforeAll(() => {
    // The built package, as a user installs it (resolved through its own "exports"),
    // built as `npm run build` does: from an empty dist/, so no stale file is packed.
    rmSync(path.join(root, 'dist'), { recursive: true, force: true });
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

  it('loads nestjs-sse-hub/client with require() and with import, without Nest or reflect-metadata (it uses only fetch and web streams)', () => {
    const required = node(['-e', "const c = require('nestjs-sse-hub/client'); console.log(Object.keys(c).join(','), typeof c.connect)"]);
    expect(required).toBe('connect function');
    const imported = node([
      '--input-type=module',
      '-e',
      "const c = await import('nestjs-sse-hub/client'); console.log(Object.keys(c).join(','), typeof c.connect)",
    ]);
    expect(imported).toBe('connect function');
    const loaded = node(['-e', "require('nestjs-sse-hub/client'); console.log(Object.keys(require.cache).filter((f) => f.includes('node_modules')).length)"]);
    expect(loaded).toBe('0');
  });

  it('ships types for every entry point', () => {
    for (const file of ['dist/index.d.ts', 'dist/redis.d.ts', 'dist/client.d.ts']) {
      expect(node(['-e', `console.log(require('node:fs').existsSync(${JSON.stringify(file)}))`])).toBe('true');
    }
  });

  it('maps every subpath ./x to dist/x.d.ts and dist/x.js, which the typesVersions wildcard relies on', () => {
    // Under "moduleResolution": "node" TypeScript ignores "exports"; typesVersions maps
    // `nestjs-sse-hub/x` to ./dist/x (and falls back to the root for the main "types").
    expect(pkg.typesVersions).toEqual({ '*': { '*': ['./dist/*', './*'] } });
    for (const [key, value] of Object.entries(pkg.exports)) {
      if (key === './package.json') continue;
      const name = key === '.' ? 'index' : key.slice(2);
      expect(value).toEqual({ types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` });
    }
  });

  it('builds before packing', () => {
    expect(pkg.scripts.prepack).toBe('npm run build');
  });

  it('declares as peers exactly the packages lib/ imports', () => {
    const imported = new Set<string>();
    for (const file of readdirSync(path.join(root, 'lib'), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      const source = readFileSync(path.join(root, 'lib', file), 'utf8');
      for (const [, specifier] of source.matchAll(/(?:from|import)\s+'([^'.][^']*)'/g)) {
        if (specifier.startsWith('node:')) continue;
        imported.add(specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
      }
    }
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual([...imported].sort());
  });

  it('packs LICENSE, README, CHANGELOG, package.json and dist/ (JavaScript and declarations only)', () => {
    const stdout = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    const [{ files }] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'dist/index.d.ts', 'dist/redis.d.ts']),
    );
    const rest = paths.filter((file) => !['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json'].includes(file));
    expect(rest.filter((file) => !/^dist\/.+\.(js|d\.ts)$/.test(file))).toEqual([]);
    // No source maps: the sources are not shipped, so a map or a sourceMappingURL would point nowhere.
    expect(readFileSync(path.join(root, 'dist/index.js'), 'utf8')).not.toContain('sourceMappingURL');
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
