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
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
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

  it('loads nestjs-sse-hub/testing and nestjs-sse-hub/health with require() and with import', () => {
    const required = node([
      '-e',
      "require('reflect-metadata'); console.log(typeof require('nestjs-sse-hub/testing').SseTestClient, typeof require('nestjs-sse-hub/health').SseHealthIndicator)",
    ]);
    expect(required).toBe('function function');
    const imported = node([
      '--input-type=module',
      '-e',
      "import 'reflect-metadata'; const t = await import('nestjs-sse-hub/testing'); const h = await import('nestjs-sse-hub/health'); console.log(Object.keys(t).sort().join(','), Object.keys(h).join(','))",
    ]);
    expect(imported).toBe('SseTestClient,SseTestClientError SseHealthIndicator');
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
    for (const file of ['dist/index.d.ts', 'dist/redis.d.ts', 'dist/testing.d.ts', 'dist/health.d.ts', 'dist/client.d.ts']) {
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
      // Static imports, and the lazy `import('x')` of optional peers.
      for (const [, specifier] of source.matchAll(/(?:\bfrom\s+|\bimport\s+|\bimport\(\s*)'([^'.][^']*)'/g)) {
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

  it('imports no optional peer statically from the root entry: OpenTelemetry is loaded at bootstrap, the others by their subpaths', () => {
    // Packages an entry imports statically, following its relative imports through dist/
    // (ESM packages such as Terminus never show in require.cache, so the files are read).
    const staticPeers = (entry: string): string[] => {
      const seen = new Set<string>();
      const peers = new Set<string>();
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const source = readFileSync(file, 'utf8');
        for (const [, from, bare] of source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
          const specifier = from ?? bare;
          if (specifier.startsWith('.')) visit(path.resolve(path.dirname(file), specifier));
          else peers.add(specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
        }
      };
      visit(path.join(root, 'dist', entry));
      return [...peers].filter((peer) => pkg.peerDependenciesMeta[peer]?.optional).sort();
    };
    expect(staticPeers('index.js')).toEqual([]);
    expect(staticPeers('testing.js')).toEqual([]);
    // The same walk finds them where they belong.
    expect(staticPeers('health.js')).toEqual(['@nestjs/terminus']);
    expect(staticPeers('redis.js')).toEqual(['ioredis']);
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
