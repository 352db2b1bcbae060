/**
 * A load generator's wait for every expected event: it ends when the events
 * are all there (`complete()`, called by whoever counts them) or when the count
 * stood still for a whole stall period (the rest will not come).
 */
export class CompletionWait {
  private finish: (() => void) | undefined;

  /** The count reached its goal: ends the wait in progress, if any. */
  complete(): void {
    this.finish?.();
  }

  /** True once complete (at once if `done` already), false once `count()` has not moved for `stallMs`. */
  wait(count: () => number, done: boolean, stallMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (done) return resolve(true);
      let seen = count();
      const watchdog = setInterval(() => {
        if (count() === seen) {
          clearInterval(watchdog);
          this.finish = undefined;
          resolve(false);
        }
        seen = count();
      }, stallMs);
      this.finish = () => {
        clearInterval(watchdog);
        this.finish = undefined;
        resolve(true);
      };
    });
  }
}
