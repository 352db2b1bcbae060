import { RedisBatcher } from '../../lib/transports/redis/redis-batcher.js';

interface Answer {
  resolve(answers: readonly unknown[]): void;
  reject(error: Error): void;
}

/** A flush whose answers the test gives, one batch at a time. */
function recordingFlush() {
  const calls: Array<{ name: string; ops: readonly number[]; answer: Answer }> = [];
  const flush = (name: string, ops: readonly number[]) =>
    new Promise<readonly unknown[]>((resolve, reject) => calls.push({ name, ops, answer: { resolve, reject } }));
  return { calls, flush };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('RedisBatcher', () => {
  it('sends the operations of one turn in one call per name, in issue order', async () => {
    const { calls, flush } = recordingFlush();
    const batcher = new RedisBatcher<number>(flush, true);
    const answers = [batcher.add('a', 1), batcher.add('b', 2), batcher.add('a', 3)];
    await turn();
    expect(calls.map((call) => [call.name, call.ops])).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
    calls[0].answer.resolve(['one', 'three']);
    calls[1].answer.resolve(['two']);
    await expect(Promise.all(answers)).resolves.toEqual(['one', 'two', 'three']);
  });

  it("holds a name's next batch until the one on its way has its answer, even a failure", async () => {
    const { calls, flush } = recordingFlush();
    const batcher = new RedisBatcher<number>(flush, true);
    const first = batcher.add('a', 1);
    await turn();
    const second = [batcher.add('a', 2), batcher.add('b', 9)];
    await turn();
    const third = batcher.add('a', 3);
    await turn();
    // Another name goes at once; the name with a batch on its way waits, its later operations gathered in one batch.
    expect(calls.map((call) => [call.name, call.ops])).toEqual([
      ['a', [1]],
      ['b', [9]],
    ]);
    calls[0].answer.reject(new Error('NOSCRIPT'));
    await expect(first).rejects.toThrow('NOSCRIPT');
    await turn();
    expect(calls.map((call) => [call.name, call.ops])).toEqual([
      ['a', [1]],
      ['b', [9]],
      ['a', [2, 3]],
    ]);
    calls[1].answer.resolve(['nine']);
    calls[2].answer.resolve(['two', 'three']);
    await expect(Promise.all([...second, third])).resolves.toEqual(['two', 'nine', 'three']);
  });

  it('without batching, sends every operation at once in a call of its own', async () => {
    const { calls, flush } = recordingFlush();
    const batcher = new RedisBatcher<number>(flush, false);
    void batcher.add('a', 1);
    void batcher.add('a', 2);
    expect(calls.map((call) => call.ops)).toEqual([[1], [2]]);
  });
});
