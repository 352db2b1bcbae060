import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis.js';
import { until } from './wait.js';

const CONFIGS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../proxies');

/** A reverse proxy the suites put in front of an app: Debian's package, started from a config of test/proxies/. */
export interface ProxyKind {
  /** `nginx`, `caddy` or `haproxy`: also its folder under test/proxies/. */
  readonly name: string;
  /** Where Debian installs it. */
  readonly binary: string;
  /** Its Debian package (what `.ci/run` installs). */
  readonly debianPackage: string;
  /** Command-line arguments that run `configFile` in the foreground. */
  args(configFile: string, dir: string): string[];
}

export const nginx: ProxyKind = {
  name: 'nginx',
  binary: '/usr/sbin/nginx',
  debianPackage: 'nginx',
  args: (configFile, dir) => ['-p', dir, '-c', configFile, '-e', 'stderr', '-g', 'daemon off;'],
};

export const caddy: ProxyKind = {
  name: 'caddy',
  binary: '/usr/bin/caddy',
  debianPackage: 'caddy',
  args: (configFile) => ['run', '--config', configFile, '--adapter', 'caddyfile'],
};

export const haproxy: ProxyKind = {
  name: 'haproxy',
  binary: '/usr/sbin/haproxy',
  debianPackage: 'haproxy',
  args: (configFile) => ['-f', configFile, '-db'],
};

/** True when CI asked the proxy suites to fail, not skip, without their binary. */
const proxiesRequired = process.env.SSE_HUB_REQUIRE_PROXIES === '1';

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * A describe that needs `kind`'s binary: skipped with a warning naming it when
 * it is missing, or failing when `SSE_HUB_REQUIRE_PROXIES=1` (CI, which
 * installs the packages).
 */
export function describeProxy(kind: ProxyKind, title: string, body: () => void): void {
  if (isExecutable(kind.binary)) {
    describe(title, body);
    return;
  }
  const missing = `${kind.binary} not found (Debian package "${kind.debianPackage}")`;
  if (proxiesRequired) {
    describe(title, () => {
      it(`needs ${kind.name} (SSE_HUB_REQUIRE_PROXIES=1)`, () => {
        throw new Error(`proxy suite "${title}" cannot run: ${missing}`);
      });
    });
  } else {
    console.warn(`SKIPPED proxy suite "${title}": ${missing}. Set SSE_HUB_REQUIRE_PROXIES=1 to fail instead.`);
    describe.skip(title, body);
  }
}

/** What a config's placeholders are filled with (besides `{{PORT}}` and `{{DIR}}`). */
export interface ProxyValues {
  /** The app's port. */
  upstream: number;
  /** Certificate and key files, for the TLS configs. */
  certFile?: string;
  keyFile?: string;
}

/** A proxy process this test owns, on a free loopback port. */
export class ProxyProcess {
  private output = '';

  private constructor(
    readonly kind: ProxyKind,
    readonly config: string,
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** `http://127.0.0.1:<port>` (`https://` for a TLS config). */
  url(scheme: 'http' | 'https' = 'http'): string {
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  /** Starts `kind` with test/proxies/<kind>/<config>; resolves once it accepts connections. */
  static async start(kind: ProxyKind, config: string, values: ProxyValues): Promise<ProxyProcess> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), `sse-hub-${kind.name}-`));
    const text = readFileSync(path.join(CONFIGS, kind.name, config), 'utf8')
      .replaceAll('{{PORT}}', String(port))
      .replaceAll('{{UPSTREAM}}', String(values.upstream))
      .replaceAll('{{DIR}}', dir)
      .replaceAll('{{CERT}}', values.certFile ?? '')
      .replaceAll('{{KEY}}', values.keyFile ?? '');
    const configFile = path.join(dir, config);
    writeFileSync(configFile, text);
    // Caddy keeps its state under the user's folders: a temporary one here.
    const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir };
    const child = spawn(kind.binary, kind.args(configFile, dir), { stdio: ['ignore', 'pipe', 'pipe'], env });
    const proxy = new ProxyProcess(kind, config, port, dir, child);
    let exited = false;
    child.once('exit', () => (exited = true));
    try {
      await until(async () => exited || (await accepts(port)), `${kind.name} (${config}) to listen on ${port}`, 20_000);
    } catch (error) {
      await proxy.stop();
      throw error;
    }
    if (exited) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${kind.name} (${config}) exited at start: ${proxy.output}`);
    }
    return proxy;
  }

  /**
   * Stops the proxy and waits until it is gone (SIGTERM: nginx's master then
   * takes its workers along, which SIGKILL would orphan; SIGKILL after 5 s),
   * then removes its folder.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What the proxy printed (for a failure message). */
  get log(): string {
    return this.output;
  }
}

/** True when something accepts TCP connections on the loopback port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
