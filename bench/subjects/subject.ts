/**
 * What every server under test provides to the bench. Each serves
 * `GET /sse` on 127.0.0.1 and broadcasts what the shared emit loop hands it,
 * so only the SSE layer differs between subjects.
 */
export interface BenchSubject {
  /** The port it listens on. */
  readonly port: number;
  /** Open SSE connections that a broadcast reaches right now. */
  connections(): number | Promise<number>;
  /** Sends one event (the payload, as the data of one frame) to every connection. */
  broadcast(payload: string): void;
  /** Closes the server. */
  close(): Promise<void>;
}

/**
 * Starts a subject. `instance` tells the instances of a multi-instance subject
 * apart; `runId` is shared by the instances of one run and new for every run.
 */
export type StartSubject = (instance: number, runId: string) => Promise<BenchSubject>;
