import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A file of bench/ in the source tree (the bench runs compiled, from .bench-build/bench/). */
export const benchFile = (name: string): string => fileURLToPath(new URL(`../../bench/${name}`, import.meta.url));

/**
 * Writes `body` between the `<!-- <marker>:start (rewritten by npm run bench) -->`
 * and `<!-- <marker>:end -->` lines of bench/RESULTS.md, in place of what was
 * there: each part of the bench owns one such block, and the prose around
 * it stays as written. A block not there yet is added at the end, under `heading`.
 */
export function writeResultsBlock(marker: string, body: string, heading: string): void {
  const path = benchFile('RESULTS.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const block = `<!-- ${marker}:start (rewritten by npm run bench) -->\n${body}\n<!-- ${marker}:end -->`;
  const existing = new RegExp(`<!-- ${marker}:start[\\s\\S]*?<!-- ${marker}:end -->`);
  // A function, so that `$` in the body is never read as a replacement pattern.
  const updated = existing.test(current) ? current.replace(existing, () => block) : `${current.trimEnd()}\n\n## ${heading}\n\n${block}\n`;
  writeFileSync(path, updated);
}
