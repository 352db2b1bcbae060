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
 * of a name, and every answer goes back to its own caller. With batching off,
 * each operation is a call of its own (for comparison).
 */
export class RedisBatcher<Op> {
  private queues = new Map<string, Array<Pending<Op>>>();
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
    const queues = this.queues;
    this.queues = new Map();
    for (const [name, queue] of queues) this.carryOut(name, queue);
  }

  private carryOut(name: string, batch: Array<Pending<Op>>): void {
    this.flush(
      name,
      batch.map((pending) => pending.op),
    ).then(
      (answers) => batch.forEach((pending, i) => pending.resolve(answers[i])),
      (error: unknown) => batch.forEach((pending) => pending.reject(error)),
    );
  }
}
