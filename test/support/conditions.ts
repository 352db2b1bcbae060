/**
 * Waits for conditions on something that changes as data arrives: `notify()`
 * after every change re-checks them. For test clients that are not `SseClient`.
 */
export class Conditions {
  private waiters: Array<() => boolean> = [];

  /** Resolves with the first truthy value of `predicate`; rejects after `timeoutMs` with `what` and `describe()`. */
  waitFor<T>(predicate: () => T | undefined | false, what: string, describe: () => string, timeoutMs = 15_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = predicate();
        if (!value) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${what}; ${describe()}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  /** Re-checks every pending condition. */
  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
