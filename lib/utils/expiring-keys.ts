/**
 * Keys that are remembered for a while: a Map of key → expiry, bounded (the
 * oldest are forgotten first) and swept as keys are added, so that it never
 * holds more than `max` keys nor, for long, expired ones.
 */
export class ExpiringKeys {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Remembers `key` for `ttlMs` from `now`. */
  add(key: string, ttlMs: number, now = Date.now()): void {
    // Re-inserted at the newest end, so that insertion order stays close to expiry order.
    this.expiries.delete(key);
    this.expiries.set(key, now + ttlMs);
    for (const [oldest, expiry] of this.expiries) {
      if (expiry > now && this.expiries.size <= this.max) break;
      this.expiries.delete(oldest);
    }
  }

  /** True while `key` is remembered. */
  has(key: string, now = Date.now()): boolean {
    const expiry = this.expiries.get(key);
    if (expiry === undefined) return false;
    if (expiry > now) return true;
    this.expiries.delete(key);
    return false;
  }

  /** How many keys are held (expired ones not swept yet included). */
  get size(): number {
    return this.expiries.size;
  }
}
