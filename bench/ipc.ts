import type { ChildProcess } from 'node:child_process';

/**
 * Request/answer messaging between the orchestrator and its child processes
 * (servers under test, the load generator) over Node's IPC channel.
 */
export interface IpcRequest {
  id: number;
  type: string;
  [key: string]: unknown;
}

let nextId = 1;

/** Sends `message` to `child` and resolves with its answer (same id), or rejects after `timeoutMs`. */
export function ask<T>(child: ChildProcess, message: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no answer to ${String(message.type)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (answer: { id?: number; error?: string }) => {
      if (answer.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (answer.error) reject(new Error(answer.error));
      else resolve(answer as T);
    };
    child.on('message', onMessage);
    child.send({ ...message, id });
  });
}

/** In a child: answers each request with what `handle` returns (or its error). */
export function serve(handle: (request: IpcRequest) => Promise<Record<string, unknown>> | Record<string, unknown>): void {
  // An orchestrator that died (or was stopped) takes its children with it.
  process.on('disconnect', () => process.exit(1));
  process.on('message', (request: IpcRequest) => {
    Promise.resolve()
      .then(() => handle(request))
      .then(
        (answer) => process.send?.({ ...answer, id: request.id }),
        (error: unknown) => process.send?.({ id: request.id, error: error instanceof Error ? error.stack : String(error) }),
      );
  });
}
