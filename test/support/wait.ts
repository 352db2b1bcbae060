/**
 * The one bounded wait of the test suites. A test waits for what it expects
 * (a predicate, an event, a lifecycle notice), never for a fixed time; this is
 * for what nothing announces (a cluster-wide query, a count that drops later).
 */
const POLL_MS = 5;
const DEFAULT_TIMEOUT_MS = 10_000;

const tick = () => new Promise((resolve) => setTimeout(resolve, POLL_MS));

/** Resolves once `condition` holds; rejects after `timeoutMs` naming `what`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await tick();
  }
}

/**
 * Polls `probe` until it gives `expected` (deep-equal by JSON), at most
 * `timeoutMs`; returns the last answer either way, for the caller's `expect`
 * to compare (a wrong answer then fails with a diff, not with a timeout).
 */
export async function settle<T>(probe: () => T | Promise<T>, expected: T, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const wanted = JSON.stringify(expected);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (JSON.stringify(value) === wanted || Date.now() > deadline) return value;
    await tick();
  }
}

/**
 * Names the outcome that happened first. A test that awaits the right outcome
 * races it against the wrong one (the stream ending, another event, the
 * handler running on), so that a wrong behaviour fails at once with an
 * assertion instead of a timeout.
 */
export function firstOf<K extends string>(outcomes: { [name in K]?: Promise<unknown> }): Promise<K> {
  return Promise.race(
    (Object.entries(outcomes) as Array<[K, Promise<unknown> | undefined]>)
      .filter((entry): entry is [K, Promise<unknown>] => entry[1] !== undefined)
      .map(([name, outcome]) => outcome.then(() => name)),
  );
}

/**
 * Resolves after `count` turns of the event loop (I/O included), however long
 * they take: "nothing happened within N turns" as an outcome for `firstOf`,
 * where the right outcome needs a few turns at most and no timer.
 */
export async function eventLoopTurns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}
