// Two generators started in the same millisecond (tests, several apps in one
// process) must not share a generation: each takes a later one than the last.
let lastGeneration = 0;

function nextGeneration(): number {
  lastGeneration = Math.max(Date.now(), lastGeneration + 1);
  return lastGeneration;
}

// 36^11 > 2^53: every safe integer fits in 11 base-36 digits, so padding to 11 keeps string order.
const SEQUENCE_DIGITS = 11;

/**
 * Generates the ids of events sent without one: `<generation>-<sequence>`,
 * e.g. `mi0f3k2ab-0000000002s`.
 *
 * - `generation`: the start time of this generator in milliseconds, base 36
 *   (9 digits, zero-padded), so ids stay unique across restarts;
 * - `sequence`: a counter, base 36, zero-padded to 11 digits.
 *
 * Both parts have a fixed width, so generated ids compare as plain strings:
 * a later event has a greater id, and an id of an earlier run sorts before
 * every id of a later one. (`MemoryTransport` uses it; a cluster-wide
 * transport decides ids in one place for every instance.)
 */
export class SseEventIds {
  private readonly generation = nextGeneration().toString(36).padStart(9, '0');
  private sequence = 0;

  /** The next id; never repeats within this generation. */
  next(): string {
    return `${this.generation}-${(++this.sequence).toString(36).padStart(SEQUENCE_DIGITS, '0')}`;
  }
}
