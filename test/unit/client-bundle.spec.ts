import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

// nestjs-sse-hub/client as a browser gets it: one ES module, no dependencies, under 3 KB min+gzip,
// written against browser APIs only (it compiles with the DOM library and without Node's types).

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The budget of the issue: 3 KB, minified and gzipped. */
const BUDGET_BYTES = 3 * 1024;

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(root, 'lib/client.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

describe('the browser client bundle', () => {
  it(`is one self-contained ES module under ${BUDGET_BYTES} bytes minified and gzipped`, async () => {
    const code = await bundle();
    const gzipped = gzipSync(code, { level: 9 }).length;
    console.info(`nestjs-sse-hub/client: ${code.length} bytes minified, ${gzipped} bytes min+gzip (budget ${BUDGET_BYTES})`);
    expect(gzipped).toBeLessThan(BUDGET_BYTES);
    // Nothing left to load: no import, no require, and it exports connect.
    expect(code).not.toMatch(/\bimport\s*[({"'\w]|\brequire\(/);
    expect(code).toMatch(/export\s*\{[^}]*\bas connect\b|export\s*\{[^}]*\bconnect\b/);
  });

  it('imports nothing but files of its own package (no dependency, no Node module)', () => {
    const dir = path.join(root, 'lib/client');
    const files = ['lib/client.ts', ...readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => `lib/client/${f}`)];
    const imports = files.flatMap((file) => {
      const source = readFileSync(path.join(root, file), 'utf8');
      // Import and export statements (not the examples in comments).
      return [...source.matchAll(/^(?:import|export)\b[^;]*?from '([^']+)'/gm)].map((match) => [file, match[1]]);
    });
    expect(imports.length).toBeGreaterThan(2);
    for (const [file, specifier] of imports) expect([file, specifier]).toEqual([file, expect.stringMatching(/^\.\.?\//)]);
  });

  it("compiles for a browser alone: the DOM library and no Node types (lib/client/tsconfig.json)", () => {
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const output = (() => {
      try {
        return execFileSync(process.execPath, [tsc, '-p', 'lib/client/tsconfig.json'], { cwd: root, encoding: 'utf8' });
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error);
      }
    })();
    expect(output).toBe('');
  }, 120_000);
});
