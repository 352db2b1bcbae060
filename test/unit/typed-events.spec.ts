import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The event map types sends on the server (SseHub<Events>, SseContext<Events>) and handlers in the
// browser client (connect<Events>): test/types/typed-events.ts compiles with tsc, and each line marked
// `// @ts-expect-error` is a send or handler that must not compile.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const source = path.join(root, 'test/types/typed-events.ts');
const DIRECTIVE = /^\s*\/\/ @ts-expect-error/;

/** Runs tsc; resolves with its output, and whether it passed. */
function compile(args: string[]): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync(process.execPath, [tsc, ...args], { cwd: root, encoding: 'utf8' }) };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout ?? error) };
  }
}

describe('typed events (tsc)', () => {
  it('compiles the type tests: every good send and handler compiles, and every marked one is an error (or tsc says the mark is unused)', () => {
    const { ok, output } = compile(['-p', 'test/types/tsconfig.json']);
    expect(output).toBe('');
    expect(ok).toBe(true);
  }, 120_000);

  it('without the marks, tsc reports an error on exactly the marked lines', () => {
    const lines = readFileSync(source, 'utf8').split('\n');
    // The same file without its directives (line numbers of the rest shift: map them).
    const kept: string[] = [];
    const expected = new Set<number>();
    for (const line of lines) {
      if (DIRECTIVE.test(line)) {
        expected.add(kept.length + 1);
        continue;
      }
      // Imports point at the repository from the temporary directory.
      kept.push(line.replace(/'\.\.\/\.\.\/lib\//g, `'${path.join(root, 'lib')}/`));
    }
    expect(expected.size).toBeGreaterThanOrEqual(9);
    const work = mkdtempSync(path.join(tmpdir(), 'sse-hub-types-'));
    try {
      writeFileSync(path.join(work, 'bad.ts'), kept.join('\n'));
      // Packages (@nestjs/common) resolve from there as from here.
      symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir');
      writeFileSync(
        path.join(work, 'tsconfig.json'),
        JSON.stringify({
          extends: path.join(root, 'tsconfig.json'),
          compilerOptions: { noEmit: true, typeRoots: [path.join(root, 'node_modules/@types')], types: ['node'] },
          include: [],
          files: [path.join(work, 'bad.ts')],
        }),
      );
      const { ok, output } = compile(['-p', path.join(work, 'tsconfig.json')]);
      expect(ok).toBe(false);
      const errorLines = new Set([...output.matchAll(/bad\.ts\((\d+),\d+\): error TS\d+/g)].map((match) => Number(match[1])));
      expect([...errorLines].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
