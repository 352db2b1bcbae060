/** One operation waiting for its name's batch, and where its answer goes. */
interface Pending<Op> {
  readonly op: Op;
  resolve(answer: unknown): void;
  reject(error: unknown): void;
}

/**
 * Collects the operations an instance issues within one event-loop turn and
 * hands them over per name, in issue order, in one call each (`flush`): one
 * script call carries many sends, closes, joins, leaves or presence changes
 * of a name, and every answer goes back to its own caller. A name has one
 * batch on its way at a time: what is issued meanwhile waits for its answer
 * and leaves as the next batch, so a batch Redis answered with an error the
 * caller recovers from (NOSCRIPT, a retry after a lost answer) is never
 * overtaken by a later one of the same name. With batching off, each
 * operation is a call of its own (for comparison).
 */
export class RedisBatcher<Op> {
  private queues = new Map<string, Array<Pending<Op>>>();
  /** Names whose batch is on its way. */
  private readonly inFlight = new Set<string>();
  private scheduled = false;

  constructor(
    /** Carries out one name's operations in order; resolves with one answer per operation. */
    private readonly flush: (name: string, ops: readonly Op[]) => Promise<readonly unknown[]>,
    private readonly batching: boolean,
  ) {}

  /** Queues an operation for `name`; resolves with its answer once its batch was carried out. */
  add<Answer>(name: string, op: Op): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const pending: Pending<Op> = { op, resolve: resolve as (answer: unknown) => void, reject };
      if (!this.batching) return this.carryOut(name, [pending]);
      let queue = this.queues.get(name);
      if (!queue) this.queues.set(name, (queue = []));
      queue.push(pending);
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flushAll());
      }
    });
  }

  private flushAll(): void {
    this.scheduled = false;
    for (const [name, queue] of this.queues) {
      // Left queued: it leaves when the batch on its way has its answer.
      if (this.inFlight.has(name)) continue;
      this.queues.delete(name);
      this.carryOut(name, queue);
    }
  }

  private carryOut(name: string, batch: Array<Pending<Op>>): void {
    if (this.batching) this.inFlight.add(name);
    this.flush(
      name,
      batch.map((pending) => pending.op),
    )
      .then(
        (answers) => batch.forEach((pending, i) => pending.resolve(answers[i])),
        (error: unknown) => batch.forEach((pending) => pending.reject(error)),
      )
      .finally(() => {
        if (!this.batching) return;
        this.inFlight.delete(name);
        const waiting = this.queues.get(name);
        if (!waiting) return;
        this.queues.delete(name);
        this.carryOut(name, waiting);
      });
  }
}
