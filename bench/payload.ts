/**
 * The bench event: a fixed-size text that carries its sequence number and the
 * moment it was emitted, so the load generator can check order and measure
 * latency without a shared process. Both sides read the same monotonic clock
 * (process.hrtime is CLOCK_MONOTONIC, shared by all processes of the machine).
 */

/** Bytes of a whole frame as the node:http yardstick writes it: `data: <payload>\n\n`. */
export const FRAME_BYTES = 100;
/** `data: ` (6) + payload + `\n\n` (2) = FRAME_BYTES. */
export const PAYLOAD_CHARS = FRAME_BYTES - 8;

const PADDING = 'x'.repeat(PAYLOAD_CHARS);

/** Microseconds on the machine-wide monotonic clock. */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** `#<seq>;<emitted µs>;xxx…`, exactly PAYLOAD_CHARS long. */
export function makePayload(seq: number): string {
  const head = `#${seq};${nowMicros()};`;
  return head + PADDING.slice(head.length);
}
