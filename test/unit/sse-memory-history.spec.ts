import { SseEventIds } from '../../lib/delivery/sse-event-ids.js';
import { SseMemoryHistory, type SseHistoryLimits } from '../../lib/history/sse-memory-history.js';
import type { SseHistoryEntry, SseReplay, SseReplayReader } from '../../lib/history/sse-history.js';
import type { SseTransportTarget } from '../../lib/interfaces/sse-transport.interface.js';

const limits = (overrides: Partial<SseHistoryLimits> = {}): SseHistoryLimits => ({
  size: 100,
  ttl: 60_000,
  maxTopics: 10_000,
  maxBytes: 64 * 1024 * 1024,
  ...overrides,
});
const entry = (id: string, target: SseTransportTarget, sentAt = Date.now()): SseHistoryEntry => ({
  id,
  frame: Buffer.from(`id: ${id}\ndata: ${id}\n\n`),
  target,
  sentAt,
});
const toName = (name: string): SseTransportTarget => ({ names: [name] });
const reader: SseReplayReader = { name: 'n', groups: ['a'], clientId: 'c1', user: 'u1' };
/** The ids of the replayed frames. */
const ids = (replay: SseReplay) => replay.frames.map((frame) => frame.toString().split('\n')[0].slice(4));

describe('SseEventIds', () => {
  it('orders ids as strings within a run and across restarts, never repeating', () => {
    const first = new SseEventIds();
    const all = Array.from({ length: 5000 }, () => first.next());
    const restarted = new SseEventIds();
    all.push(restarted.next(), restarted.next());
    expect([...all].sort()).toEqual(all);
    expect(new Set(all).size).toBe(all.length);
    expect(all[0]).toMatch(/^[0-9a-z]{9}-[0-9a-z]{11}$/);
  });
});

describe('SseMemoryHistory', () => {
  it('replays what followed the last id from every topic of the reader, addressed to it, in send order, once', () => {
    const history = new SseMemoryHistory(limits());
    history.append(entry('1', toName('n')));
    history.append(entry('2', { names: ['n'], groups: ['a'] }));
    history.append(entry('3', { names: ['n'], groups: ['b'] }));
    history.append(entry('4', { names: ['n'], clientIds: ['c1'] }));
    history.append(entry('5', { names: ['n'], clientIds: ['c2'] }));
    history.append(entry('6', { names: ['n'], groups: ['b'], clientIds: ['c1'] }));
    history.append(entry('7', toName('other')));
    history.append(entry('8', { names: ['other', 'n'] }));
    history.append(entry('9', { names: ['n'], users: ['u1'] }));
    history.append(entry('10', { names: ['n'], users: ['u2'] }));
    // In two of its groups: kept in both topics, replayed once.
    history.append(entry('11', { names: ['n'], groups: ['a', 'z'] }));
    const twoGroups = { ...reader, groups: ['a', 'z'] };
    expect(ids(history.since(twoGroups, '1'))).toEqual(['2', '4', '8', '9', '11']);
    expect(history.since(reader, '1').lostTopics).toEqual([]);
    expect(ids(history.since(reader, '11'))).toEqual([]);
  });

  it('keeps each topic within its own size, so a busy group cannot push a private event out', () => {
    const history = new SseMemoryHistory(limits({ size: 3 }));
    const generator = new SseEventIds();
    const start = generator.next();
    history.append(entry(start, toName('n')));
    const privateIds: string[] = [];
    for (let i = 0; i < 50; i++) {
      history.append(entry(generator.next(), { names: ['n'], groups: ['busy'] }));
      if (i % 20 === 0) {
        privateIds.push(generator.next());
        history.append(entry(privateIds.at(-1)!, { names: ['n'], users: ['u1'] }));
      }
    }
    const away = { ...reader, groups: [] };
    const replay = history.since(away, start);
    expect(ids(replay)).toEqual(privateIds);
    expect(replay.lostTopics).toEqual([]);
    // A member of the busy group lost what left its window: named in the gap, the rest still replayed.
    const member = history.since({ ...reader, groups: ['busy'] }, start);
    expect(member.lostTopics).toEqual([{ group: 'busy' }]);
    expect(ids(member)).toHaveLength(3 + privateIds.length);
  });

  it('resumes by id order when the last id has left every topic, and signals only the topics that lost events after it', () => {
    const history = new SseMemoryHistory(limits({ size: 2 }));
    const generator = new SseEventIds();
    const sent = Array.from({ length: 6 }, () => generator.next());
    for (const id of sent) history.append(entry(id, { names: ['n'], groups: ['a'] }));
    // The client saw sent[3], which the topic dropped; sent[4] and sent[5] are held, nothing between was lost.
    const replay = history.since(reader, sent[3]);
    expect(ids(replay)).toEqual([sent[4], sent[5]]);
    expect(replay.lostTopics).toEqual([]);
    const older = history.since(reader, sent[1]);
    expect(older.lostTopics).toEqual([{ group: 'a' }]);
    expect(older.oldestAvailableId).toBe(sent[4]);
    expect(ids(older)).toEqual([sent[4], sent[5]]);
  });

  it('answers an id from before this history began, or an unknown id of its own, with a gap and everything held', () => {
    const previousRun = new SseEventIds().next();
    const history = new SseMemoryHistory(limits());
    const generator = new SseEventIds();
    const sent = [generator.next(), generator.next()];
    for (const id of sent) history.append(entry(id, toName('n')));
    for (const lastEventId of [previousRun, 'chosen-by-the-app']) {
      const replay = history.since(reader, lastEventId);
      expect(replay.lostTopics).toContainEqual({ name: 'n' });
      expect(ids(replay)).toEqual(sent);
    }
  });

  it('evicts by age, but an up-to-date client has missed nothing', () => {
    const history = new SseMemoryHistory(limits({ size: 10, ttl: 1000 }));
    const old = Date.now() - 5000;
    history.append(entry('1', toName('n'), old));
    history.append(entry('2', toName('n'), old));
    // Only the name's topic held anything, and it lost what followed '1'.
    expect(history.since(reader, '1').lostTopics).toEqual([{ name: 'n' }]);
    expect(history.since(reader, '2')).toEqual({ lostTopics: [], oldestAvailableId: null, frames: [] });
  });

  it('resumes after a reused caller id from its latest use, across compaction', () => {
    const history = new SseMemoryHistory(limits({ size: 1500 }));
    for (let i = 0; i < 5000; i++) history.append(entry(i % 10 === 0 ? 'tick' : String(i), toName('n')));
    expect(ids(history.since(reader, 'tick'))).toEqual(['4991', '4992', '4993', '4994', '4995', '4996', '4997', '4998', '4999']);
    expect(ids(history.since(reader, '4997'))).toEqual(['4998', '4999']);
  });

  it('forgets the least recently sent-to topic past maxTopics; a later replay is conservative about it', () => {
    const history = new SseMemoryHistory(limits({ maxTopics: 2 }));
    const generator = new SseEventIds();
    const position = generator.next();
    history.append(entry(position, toName('other')));
    history.append(entry(generator.next(), { names: ['n'], users: ['u1'] }));
    history.append(entry(generator.next(), toName('other'))); // now the user's topic is the least recently sent to
    const second = generator.next();
    history.append(entry(second, { names: ['n'], groups: ['a'] })); // the user's topic goes
    const replay = history.since({ ...reader, groups: ['a'] }, position);
    expect(replay.lostTopics).toEqual([{ user: 'u1' }]);
    expect(ids(replay)).toEqual([second]);
    // A position after everything forgotten misses nothing.
    expect(history.since({ ...reader, groups: ['a'] }, second).lostTopics).toEqual([]);
  });

  it('bounds the bytes it holds: the largest topics lose their oldest events first', () => {
    const frameBytes = entry('x', toName('n')).frame.length;
    const history = new SseMemoryHistory(limits({ size: 1000, maxBytes: frameBytes * 20 }));
    const generator = new SseEventIds();
    const start = generator.next();
    history.append(entry(start, toName('n')));
    const privateId = generator.next();
    history.append(entry(privateId, { names: ['n'], clientIds: ['c1'] }));
    for (let i = 0; i < 100; i++) history.append(entry(generator.next(), { names: ['n'], groups: ['busy'] }));
    const replay = history.since({ ...reader, groups: [] }, start);
    expect(ids(replay)).toEqual([privateId]);
    expect(ids(history.since({ ...reader, groups: ['busy'] }, start)).length).toBeLessThanOrEqual(20);
  });

  it('gives the last events of a group addressed to the reader, without their id lines', () => {
    const history = new SseMemoryHistory(limits());
    for (let i = 1; i <= 5; i++) history.append(entry(`g${i}`, { names: ['n'], groups: ['a'] }));
    history.append(entry('other-user', { names: ['n'], groups: ['a'], users: ['u2'] }));
    expect(history.recent(reader, 'a', 2).map(String)).toEqual(['data: g4\n\n', 'data: g5\n\n']);
    expect(history.recent(reader, 'nope', 2)).toEqual([]);
  });

  it('forgets expired topics and names nobody holds, and lets their frames go', () => {
    let inUse = true;
    const history = new SseMemoryHistory(limits({ ttl: 1000 }), () => inUse);
    const old = Date.now() - 5000;
    const generator = new SseEventIds();
    const last = generator.next();
    history.append(entry(last, toName('n'), old));
    history.sweep();
    // Still connected: the name's latest id is kept, so its client is up to date.
    expect(history.since(reader, last).frames).toEqual([]);
    expect(history.since(reader, last).lostTopics).toEqual([]);
    inUse = false;
    history.sweep();
    // Forgotten; the watermark still knows nothing after `last` was lost.
    expect(history.since(reader, last).lostTopics).toEqual([]);
    history.onApplicationShutdown();
  });

  it("replay 'latest': a topic keeps one event per type, so ticks never push other events out of its window", () => {
    const history = new SseMemoryHistory(limits({ size: 3 }));
    const generator = new SseEventIds();
    const start = generator.next();
    history.append(entry(start, toName('n')));
    const chat = generator.next();
    history.append(entry(chat, toName('n')));
    let lastTick = '';
    for (let i = 0; i < 300; i++) {
      lastTick = generator.next();
      history.append({ ...entry(lastTick, toName('n')), mode: 'latest', type: 'clock' });
    }
    const replay = history.since(reader, start);
    expect(ids(replay)).toEqual([chat, lastTick]);
    expect(replay.lostTopics).toEqual([]);
  });

  it('replay none: nothing is stored, yet its id is a position (an up-to-date client missed nothing)', () => {
    const history = new SseMemoryHistory(limits({ size: 3 }));
    const generator = new SseEventIds();
    const first = generator.next();
    history.append(entry(first, toName('n')));
    const live = generator.next();
    history.append({ ...entry(live, toName('n')), mode: 'none' });
    expect(ids(history.since(reader, first))).toEqual([]);
    expect(history.since(reader, live)).toEqual({ lostTopics: [], oldestAvailableId: null, frames: [] });
    const after = generator.next();
    history.append(entry(after, toName('n')));
    expect(ids(history.since(reader, live))).toEqual([after]);
    expect(history.since(reader, live).lostTopics).toEqual([]);
  });
});
