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
});
