/** This process's RSS and heap, read after a full collection (run with --expose-gc). */
export function memory(): { rss: number; heapUsed: number } {
  // Two passes: the first may only schedule finalizers.
  globalThis.gc?.();
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}
