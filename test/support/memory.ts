const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Heap and external memory (ArrayBuffers included) the process still holds
 * after full collections: what it retains, not garbage V8 has not collected
 * yet, and not how fast anything ran. Needs `--expose-gc` (the npm test script sets it).
 */
export async function retainedBytes(): Promise<number> {
  // Several rounds with turns between, so that finalizers and weak references settle.
  for (let round = 0; round < 3; round++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return retainedBytesNow();
}

/**
 * The same, measured without giving timers a turn (so a sweep timer cannot
 * change what is measured): less settled than `retainedBytes()`.
 */
export function retainedBytesNow(): number {
  collect();
  collect();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

function collect(): void {
  if (!gc) throw new Error('retainedBytes() needs node --expose-gc (npm test sets it)');
  gc();
}

/** One mebibyte, for memory figures. */
export const MB = 1024 * 1024;
