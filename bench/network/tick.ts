/**
 * The network bench's event: a dashboard tick of repetitive JSON (about 700
 * bytes), the kind of stream compression is for. Its values change with `seq`
 * so that no two events are the same text.
 */
export function tickPayload(seq: number): string {
  const rows = Array.from({ length: 8 }, (_, i) => ({
    symbol: `SYM${i}`,
    price: Number((100 + i * 1.2345 + (seq % 97) / 100).toFixed(4)),
    change: Number((((seq + i) % 13) / 10 - 0.6).toFixed(2)),
    volume: 120_000 + ((seq * 7 + i * 131) % 5000),
    currency: 'USD',
  }));
  return JSON.stringify({ type: 'tick', seq, at: 1_790_000_000_000 + seq * 250, rows });
}
