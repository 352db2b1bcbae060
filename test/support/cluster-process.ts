import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { express, type Platform } from './app.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join(root, '.fixture-build/test/fixtures/redis-instance.js');

/** Compiles test/fixtures (and lib) to .fixture-build, so child processes run plain JavaScript. */
export function buildFixtures(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/fixtures/tsconfig.json'], { cwd: root });
}

type Reply = { id?: number; result?: unknown; error?: { name: string; message: string }; ready?: boolean; url?: string };

/** An error an SseHub call raised in a child process, with the class name it had there. */
export class RemoteError extends Error {
  constructor(readonly remoteName: string, message: string) {
    super(`${remoteName}: ${message}`);
  }
}

/**
 * One instance of the clustered fixture app in its own OS process, driven
 * over the IPC channel: `call('send', target, event)` runs `SseHub.send` there.
 */
export class ClusterProcess {
  /** Base URL of its HTTP server (app role only). */
  url = '';
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      const call = reply.id === undefined ? undefined : this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id!);
      if (reply.error) call.reject(new RemoteError(reply.error.name, reply.error.message));
      else call.resolve(reply.result);
    });
    child.on('exit', () => {
      for (const call of this.pending.values()) call.reject(new Error('instance process exited'));
      this.pending.clear();
    });
  }

  /**
   * Starts an instance (`app` with an HTTP server on `platform`, or `publisher`
   * without one) and waits until it is ready.
   */
  static async start(role: 'app' | 'publisher', env: Record<string, string>, platform: Platform = express): Promise<ClusterProcess> {
    const child = spawn(process.execPath, [FIXTURE], {
      cwd: root,
      env: { ...process.env, ...env, ROLE: role, PLATFORM: platform.name },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const instance = new ClusterProcess(child);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        if (!reply.ready) return;
        child.off('message', onMessage);
        instance.url = reply.url ?? '';
        resolve();
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`${role} instance exited with ${code} before it was ready`)));
    });
    return instance;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Runs an SseHub method in the child; rejects with `RemoteError` when it threw there. */
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, op, args });
    });
  }

  /** Kills the process without any shutdown (a crash) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}
