/** What `withinTime` learnt: the work's value, or that time ran out first. */
export type BoundedResult<T> = { readonly done: true; readonly value: T } | { readonly done: false };

/**
 * Waits for `work` at most `ms` milliseconds (the work itself goes on).
 * Rejects only when the work rejects in time; the timer never outlives the wait.
 */
export function withinTime<T>(work: Promise<T>, ms: number): Promise<BoundedResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<BoundedResult<T>>((resolve) => (timer = setTimeout(() => resolve({ done: false }), ms)));
  const finished = work.then((value): BoundedResult<T> => ({ done: true, value }));
  return Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
}
