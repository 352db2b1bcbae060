// `SseEventIds`: `<generation>-<sequence>`, both base 36 and fixed width.
const GENERATED = /^[0-9a-z]{9}-[0-9a-z]{11}$/;
// Redis stream ids: `<ms>-<seq>`, decimal.
const STREAM_ID = /^(\d{1,16})-(\d{1,16})$/;

/** True for an id that `compareEventIds` can order (one a generator made, not one the app chose). */
export const isOrderedId = (id: string): boolean => GENERATED.test(id) || STREAM_ID.test(id);

/**
 * Orders two event ids of the same generator: negative, zero or positive as
 * `a` was sent before, as, or after `b`. Undefined when they cannot be
 * ordered (ids the application chose, or of different kinds): then only a
 * lookup can place them.
 */
export function compareEventIds(a: string, b: string): number | undefined {
  if (GENERATED.test(a) && GENERATED.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = STREAM_ID.exec(a);
  const y = x && STREAM_ID.exec(b);
  if (!x || !y) return undefined;
  return Number(x[1]) - Number(y[1]) || Number(x[2]) - Number(y[2]);
}
