import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The package as a user gets it: `npm pack`, the tarball installed into fresh
 * projects (CommonJS with `"module": "commonjs"`, ES module with NodeNext,
 * Fastify with the Nest starter's CommonJS + NodeNext), the README's snippets
 * compiled there (strict, `skipLibCheck: false`) and run.
 *
 * Slow (npm installs), so it runs only with SSE_HUB_CONSUMER_TEST=1, as in CI.
 * SSE_HUB_CONSUMER_KEEP=1 keeps the temporary projects for a look.
 *
 * What it reads, so that it keeps up by itself:
 * - the subpaths: every key of package.json `exports` (but `./package.json`);
 * - the snippets: each fenced ```ts block of README.md preceded by
 *   `<!-- consumer-test: <file>.ts -->`, written to `src/<file>.ts`;
 * - the peers' versions: this repository's devDependencies.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const enabled = process.env.SSE_HUB_CONSUMER_TEST === '1';
const keep = process.env.SSE_HUB_CONSUMER_KEEP === '1';
const redisRequired = process.env.SSE_HUB_REQUIRE_REDIS === '1';
// Database 15 keeps this test's keys apart from anything else on a shared Redis.
const redisUrl = process.env.SSE_HUB_CONSUMER_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const run = promisify(execFile);

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
  devDependencies: Record<string, string>;
};
const subpaths = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));

/** The README snippets marked for this test, by file name. */
function readmeSnippets(): Map<string, string> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const snippets = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- consumer-test: ([\w.-]+\.ts) -->\r?\n```ts\r?\n([\s\S]*?)\r?\n```/g)) {
    snippets.set(match[1], `${match[2]}\n`);
  }
  return snippets;
}

/** npm's own variables of the `npm test` that runs us would point a nested npm at this repository. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_(registry|cache|userconfig|cafile|strict_ssl|https?_proxy|proxy|noproxy)$/i.test(key)) continue;
    if (key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return env;
}

const peer = (name: string) => `${name}@${pkg.devDependencies[name]}`;

interface Project {
  name: string;
  /** `"type"` of the project's package.json. */
  type: 'commonjs' | 'module';
  compilerOptions: Record<string, unknown>;
  platform: 'express' | 'fastify';
  /** The compiled file that starts the Quick start app. */
  entry: string;
  /** Also runs the README's Redis module in a worker (once is enough). */
  redisWorker?: boolean;
  /** Also type-checks with `"moduleResolution": "bundler"`. */
  bundler?: boolean;
}

const common = {
  target: 'ES2022',
  strict: true,
  skipLibCheck: false,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  forceConsistentCasingInFileNames: true,
  types: ['node'],
  rootDir: 'src',
  outDir: 'dist',
  noEmitOnError: true,
};

const projects: Project[] = [
  {
    name: 'cjs',
    type: 'commonjs',
    compilerOptions: { ...common, module: 'commonjs', moduleResolution: 'node' },
    platform: 'express',
    entry: 'main.js',
    redisWorker: true,
  },
  {
    name: 'esm',
    type: 'module',
    compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext' },
    platform: 'express',
    entry: 'main.js',
    bundler: true,
  },
  {
    name: 'fastify',
    type: 'commonjs',
    compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext' },
    platform: 'fastify',
    entry: 'main.fastify.js',
  },
];

/** Imports every subpath, so that a subpath without types fails to compile (TS7016 under strict). */
function subpathsSource(): string {
  const imports = subpaths.map((specifier, i) => `import * as m${i} from '${specifier}';`).join('\n');
  const entries = subpaths.map((specifier, i) => `  [${JSON.stringify(specifier)}, Object.keys(m${i}).length],`).join('\n');
  return `${imports}\n\nconst loaded: Array<[string, number]> = [\n${entries}\n];\nconsole.log(JSON.stringify(Object.fromEntries(loaded)));\n`;
}

const redisWorkerSource = `import { NestFactory } from '@nestjs/core';
import { SseHub } from '${pkg.name}';
import { AppModule } from './redis.module.js';

// A process without an HTTP server that publishes through Redis (the README's "Workers can publish").
async function main() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  const hub = app.get(SseHub);
  const { delivered } = await hub.send({ name: 'consumer-test-' + process.pid }, { event: 'ping', data: 'from a worker' });
  const count = await hub.count();
  await app.close();
  console.log(JSON.stringify({ delivered, count }));
}
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
`;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

/** The raw text of an SSE response, with a wait for a pattern in it. */
class RawStream {
  text = '';
  ended = false;
  private waiters: Array<() => void> = [];

  constructor(readonly response: http.IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.text += chunk;
      this.wake();
    });
    response.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async waitFor(pattern: RegExp, what: string, timeoutMs = 15_000): Promise<void> {
    await this.until(() => pattern.test(this.text), what, timeoutMs);
  }

  async waitForEnd(timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.ended, 'the end of the response', timeoutMs);
  }

  private async until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.ended) throw new Error(`the response ended before ${what}; got:\n${this.text}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }
}

/** GET /events?room=lobby until the app answers (it is still booting at first). */
async function connect(port: number, app: ChildProcess, output: () => string): Promise<RawStream> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (app.exitCode !== null || app.signalCode !== null) throw new Error(`the app exited early:\n${output()}`);
    try {
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http
          .get({ host: 'localhost', port, path: '/events?room=lobby', headers: { accept: 'text/event-stream' } }, resolve)
          .once('error', reject);
      });
      return new RawStream(response);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the app never answered (${(error as Error).message}):\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const maybe = enabled ? describe : describe.skip;
if (!enabled) {
  console.warn('SKIPPED consumer package test: set SSE_HUB_CONSUMER_TEST=1 to pack, install and run the package (slow; .ci/run does).');
}

maybe('the packed package in fresh projects', () => {
  const snippets = readmeSnippets();
  let work: string;
  let tarball: string;
  let packedFiles: string[];
  const compiled = new Map<string, Promise<void>>();

  const dir = (project: Project) => path.join(work, project.name);
  const tsc = (project: Project, ...args: string[]) =>
    run(process.execPath, [path.join(dir(project), 'node_modules/typescript/bin/tsc'), ...args], { cwd: dir(project) });

  beforeAll(async () => {
    const started = Date.now();
    work = mkdtempSync(path.join(tmpdir(), 'sse-hub-consumer-'));

    // Pack a copy of the working tree, so that prepack's build never replaces
    // this repository's dist/ under another spec that is using it.
    const stage = path.join(work, 'stage');
    cpSync(root, stage, {
      recursive: true,
      filter: (source) => !/(^|\/)(node_modules|dist|\.git|coverage|test-artifacts|\.[\w-]+-build)$/.test(path.relative(root, source)),
    });
    symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: stage, env: npmEnv() });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, packed.filename);
    packedFiles = packed.files.map((file) => file.path);
    const packTime = Date.now() - started;

    // The projects install in parallel (the npm cache makes repeats fast).
    await Promise.all(
      projects.map(async (project) => {
        const cwd = dir(project);
        mkdirSync(path.join(cwd, 'src'), { recursive: true });
        writeFileSync(
          path.join(cwd, 'package.json'),
          JSON.stringify({ name: `consumer-${project.name}`, private: true, type: project.type }, null, 2),
        );
        writeFileSync(path.join(cwd, 'tsconfig.json'), JSON.stringify({ compilerOptions: project.compilerOptions, include: ['src'] }, null, 2));
        for (const [file, source] of snippets) {
          // Each project runs on one platform; the other platform's entry is not its to compile.
          if (project.platform === 'express' && file.includes('fastify')) continue;
          writeFileSync(path.join(cwd, 'src', file), source);
        }
        writeFileSync(path.join(cwd, 'src', 'subpaths.ts'), subpathsSource());
        if (project.redisWorker) writeFileSync(path.join(cwd, 'src', 'redis-worker.ts'), redisWorkerSource);
        const peers = [
          '@nestjs/common',
          '@nestjs/core',
          project.platform === 'express' ? '@nestjs/platform-express' : '@nestjs/platform-fastify',
          '@nestjs/schedule',
          '@nestjs/terminus',
          '@opentelemetry/api',
          'eventsource-parser',
          'ioredis',
          'reflect-metadata',
          'rxjs',
          'typescript',
          '@types/node',
        ].map(peer);
        await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...peers], {
          cwd,
          env: npmEnv(),
          maxBuffer: 16 * 1024 * 1024,
        });
      }),
    );
    const installTime = Date.now() - started - packTime;
    // Compiling starts here for every project at once; each test awaits its own.
    for (const project of projects) {
      compiled.set(
        project.name,
        tsc(project, '-p', 'tsconfig.json').then(
          () => undefined,
          (error: { stdout?: string; message: string }) => {
            throw new Error(`tsc failed in the ${project.name} project:\n${error.stdout || error.message}`);
          },
        ),
      );
    }
    // Nobody may be left with an unhandled rejection if a test never awaits it.
    for (const promise of compiled.values()) promise.catch(() => undefined);
    console.log(`consumer test: packed in ${packTime} ms, installed 3 projects in ${installTime} ms (${work})`);
  }, 600_000);

  afterAll(() => {
    if (work && !keep) rmSync(work, { recursive: true, force: true });
  });

  it('finds the README snippets it compiles', () => {
    expect([...snippets.keys()].sort()).toEqual(
      expect.arrayContaining(['app.module.ts', 'main.ts', 'main.fastify.ts', 'redis.module.ts', 'health.module.ts', 'smoke.ts']),
    );
  });

  it('packs LICENSE, README, CHANGELOG, package.json and dist/ with types for every subpath, and nothing else', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']));
    for (const [key, value] of Object.entries(pkg.exports)) {
      if (key === './package.json') continue;
      const { types, default: main } = value as { types: string; default: string };
      expect(packedFiles).toEqual(expect.arrayContaining([types.slice(2), main.slice(2)]));
    }
    const others = packedFiles.filter((file) => !['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json'].includes(file));
    expect(others.filter((file) => !/^dist\/.+\.(js|d\.ts)$/.test(file))).toEqual([]);
  });

  describe.each(projects)('$name project', (project) => {
    it('compiles the README snippets and imports every subpath with types', async () => {
      await compiled.get(project.name);
    }, 180_000);

    if (project.bundler) {
      it('compiles the same with "moduleResolution": "bundler"', async () => {
        await compiled.get(project.name);
        await tsc(project, '-p', 'tsconfig.json', '--noEmit', '--module', 'esnext', '--moduleResolution', 'bundler').catch(
          (error: { stdout?: string; message: string }) => {
            throw new Error(`tsc (bundler) failed:\n${error.stdout || error.message}`);
          },
        );
      }, 180_000);
    }

    it('loads every subpath at run time', async () => {
      await compiled.get(project.name);
      const { stdout } = await run(process.execPath, ['dist/subpaths.js'], { cwd: dir(project) });
      const counts = JSON.parse(stdout) as Record<string, number>;
      expect(Object.keys(counts)).toEqual(subpaths);
      for (const specifier of subpaths) expect(counts[specifier]).toBeGreaterThan(0);
      // The CommonJS projects really require() the ES module package.
      const main = readFileSync(path.join(dir(project), 'dist', 'app.module.js'), 'utf8');
      expect(main).toContain(project.type === 'commonjs' ? `require("${pkg.name}")` : `from '${pkg.name}'`);
    }, 180_000);

    it('runs the Quick start: an event with an id, then sse.close "shutdown" on SIGTERM', async () => {
      await compiled.get(project.name);
      const port = await freePort();
      let output = '';
      const app = spawn(process.execPath, [path.join('dist', project.entry)], {
        cwd: dir(project),
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      app.stdout!.on('data', (chunk: Buffer) => (output += chunk));
      app.stderr!.on('data', (chunk: Buffer) => (output += chunk));
      const exited = new Promise<void>((resolve) => app.once('exit', () => resolve()));
      try {
        const stream = await connect(port, app, () => output);
        expect(stream.response.statusCode).toBe(200);
        expect(stream.response.headers['content-type']).toMatch(/^text\/event-stream/);
        await stream.waitFor(/event: sse\.open\ndata: \{[^\n]*"group":"lobby"[^\n]*\}\n\n/, 'sse.open in group lobby');
        // The Quick start's @Cron job sends "clock" every second.
        await stream.waitFor(/\nid: [0-9a-z]{9}-[0-9a-z]{11}\nevent: clock\ndata: \{"now":\d+\}\n\n/, 'a clock event with an id');
        // The README's smoke check: nestjs-sse-hub/testing from the installed package reads a clock event too.
        const smoke = await run(process.execPath, ['dist/smoke.js'], {
          cwd: dir(project),
          env: { ...process.env, APP_URL: `http://localhost:${port}` },
          timeout: 30_000,
        });
        expect(JSON.parse(smoke.stdout.trim().split('\n').pop()!)).toEqual({ id: expect.stringMatching(/^[0-9a-z]{9}-[0-9a-z]{11}$/), now: expect.any(Number) });
        app.kill('SIGTERM');
        await stream.waitFor(/event: sse\.close\ndata: \{"reason":"shutdown"\}\n\n/, 'sse.close "shutdown"');
        await stream.waitForEnd();
        await exited;
      } finally {
        app.kill('SIGKILL');
      }
    }, 60_000);
  });

  it('runs the README Redis module from a CommonJS worker (a send through Redis)', async () => {
    const project = projects.find((p) => p.redisWorker)!;
    await compiled.get(project.name);
    if (!(await reachable(redisUrl))) {
      if (redisRequired) throw new Error(`no Redis at ${redisUrl} (SSE_HUB_REQUIRE_REDIS=1)`);
      console.warn(`SKIPPED the Redis run of the consumer test: no Redis at ${redisUrl} (it was compiled).`);
      return;
    }
    const { stdout } = await run(process.execPath, ['dist/redis-worker.js'], {
      cwd: dir(project),
      env: { ...process.env, REDIS_URL: redisUrl },
      timeout: 30_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { delivered: number; count: number };
    expect(result.delivered).toBe(0);
    expect(typeof result.count).toBe('number');
  }, 60_000);
});
