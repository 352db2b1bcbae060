import { SseEventIds } from '../../lib/delivery/sse-event-ids.js';
import { SseMemoryHistory } from '../../lib/history/sse-memory-history.js';
import type { SseHistoryEntry, SseReplay } from '../../lib/history/sse-history.js';
import type { NormalizedTarget } from '../../lib/addressing/sse-target.js';

const toName = (name: string): NormalizedTarget => ({ names: [name], groups: undefined, clientIds: undefined });
const entry = (id: string, target: NormalizedTarget, sentAt = Date.now()): SseHistoryEntry => ({
  id,
  frame: Buffer.from(`id: ${id}\ndata: ${id}\n\n`),
  target,
  sentAt,
});
const reader = { name: 'n', group: 'a', clientId: 'c1' };
const texts = (replay: SseReplay) =>
  replay.kind === 'frames' ? replay.frames.map((frame) => frame.toString().split('\n')[0].slice(4)) : replay;

describe('SseEventIds', () => {
  it('orders ids as strings within a run and across restarts, never repeating', () => {
    const first = new SseEventIds();
    const ids = Array.from({ length: 5000 }, () => first.next());
    const restarted = new SseEventIds();
    ids.push(restarted.next(), restarted.next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^[0-9a-z]{9}-[0-9a-z]{11}$/);
  });
});

describe('SseMemoryHistory', () => {
  it('replays what followed the last id, addressed to the reader only', () => {
    const history = new SseMemoryHistory({ size: 100, ttl: 60_000 });
    history.append(entry('1', toName('n')));
    history.append(entry('2', { names: ['n'], groups: ['a'], clientIds: undefined }));
    history.append(entry('3', { names: ['n'], groups: ['b'], clientIds: undefined }));
    history.append(entry('4', { names: ['n'], groups: undefined, clientIds: ['c1'] }));
    history.append(entry('5', { names: ['n'], groups: undefined, clientIds: ['c2'] }));
    history.append(entry('6', { names: ['n'], groups: ['b'], clientIds: ['c1'] }));
    history.append(entry('7', toName('other')));
    history.append(entry('8', { names: ['other', 'n'], groups: undefined, clientIds: undefined }));
    expect(texts(history.since(reader, '1'))).toEqual(['2', '4', '8']);
    expect(texts(history.since(reader, '8'))).toEqual([]);
  });

  it('evicts by size and reports the oldest id still held', () => {
    const history = new SseMemoryHistory({ size: 3, ttl: 60_000 });
    for (let i = 1; i <= 5; i++) history.append(entry(String(i), toName('n')));
    // The client's last event is the newest dropped: everything after it is still held.
    expect(texts(history.since(reader, '2'))).toEqual(['3', '4', '5']);
    expect(history.since(reader, '1')).toEqual({ kind: 'gap', oldestAvailableId: '3' });
    expect(texts(history.since(reader, '3'))).toEqual(['4', '5']);
    expect(history.since({ ...reader, name: 'unknown' }, '3')).toEqual({ kind: 'gap', oldestAvailableId: null });
  });

  it('evicts by age, but an up-to-date client has missed nothing', () => {
    const history = new SseMemoryHistory({ size: 10, ttl: 1000 });
    const old = Date.now() - 5000;
    history.append(entry('1', toName('n'), old));
    history.append(entry('2', toName('n'), old));
    expect(history.since(reader, '1')).toEqual({ kind: 'gap', oldestAvailableId: null });
    expect(history.since(reader, '2')).toEqual({ kind: 'frames', frames: [] });
  });

  it('keeps only the latest id, with size 0', () => {
    const history = new SseMemoryHistory({ size: 0, ttl: 1000 });
    history.append(entry('1', toName('n')));
    history.append(entry('2', toName('n')));
    expect(history.since(reader, '1')).toEqual({ kind: 'gap', oldestAvailableId: null });
    expect(history.since(reader, '2')).toEqual({ kind: 'frames', frames: [] });
  });

  it('resumes after a reused caller id from its latest use, across compaction', () => {
    const history = new SseMemoryHistory({ size: 1500, ttl: 60_000 });
    for (let i = 0; i < 5000; i++) history.append(entry(i % 10 === 0 ? 'tick' : String(i), toName('n')));
    expect(texts(history.since(reader, 'tick'))).toEqual(['4991', '4992', '4993', '4994', '4995', '4996', '4997', '4998', '4999']);
    expect(texts(history.since(reader, '4997'))).toEqual(['4998', '4999']);
    expect(history.since(reader, '3000')).toEqual({ kind: 'gap', oldestAvailableId: 'tick' }); // entry 3500 is a 'tick'
  });
});
