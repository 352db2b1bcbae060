import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Flags for a headless Chromium that never phones home or downloads anything. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** True when CI asked for the browser suites to fail, not skip, without Chromium. */
export const chromiumRequired = process.env.SSE_HUB_REQUIRE_CHROMIUM === '1';

const isExecutable = (path: string | undefined): path is string => {
  if (!path) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function whichChromium(): string | undefined {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The machine's Chromium: `CHROMIUM_PATH`, else `/usr/bin/chromium`, else
 * `chromium` on the PATH. Undefined when there is none (we never download one).
 */
export function findChromium(): string | undefined {
  return [process.env.CHROMIUM_PATH, '/usr/bin/chromium', whichChromium()].find(isExecutable);
}

/** Why the browser suites cannot run, for the skip warning and the required-failure message. */
export const chromiumMissing =
  `no Chromium found (CHROMIUM_PATH=${process.env.CHROMIUM_PATH ?? '(unset)'}, /usr/bin/chromium, ` +
  '`which chromium`); install the Debian package `chromium` or set CHROMIUM_PATH';

/** Launches a headless Chromium from `executablePath`, with `extraArgs` (e.g. `--ignore-certificate-errors` for a self-signed TLS server). */
export function launchChromium(executablePath: string, extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * A describe that needs Chromium: `body` gets its path. Without one it is
 * skipped with a warning, or fails when `SSE_HUB_REQUIRE_CHROMIUM=1` (CI).
 */
export function describeChromium(title: string, body: (chromiumPath: string) => void): void {
  const path = findChromium();
  if (path !== undefined) {
    describe(title, () => body(path));
  } else if (chromiumRequired) {
    describe(title, () => {
      it('has Chromium (SSE_HUB_REQUIRE_CHROMIUM=1)', () => {
        throw new Error(`nestjs-sse-hub browser suite "${title}": ${chromiumMissing}`);
      });
    });
  } else {
    console.warn(`SKIPPED browser suite "${title}": ${chromiumMissing}. Set SSE_HUB_REQUIRE_CHROMIUM=1 to fail instead.`);
    describe.skip(title, () => body(''));
  }
}
