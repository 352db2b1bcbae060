import fc from 'fast-check';
import { SseEventIds } from '../../lib/delivery/sse-event-ids.js';
import { SseMemoryHistory } from '../../lib/history/sse-memory-history.js';
import { isAddressedTo } from '../../lib/addressing/sse-target.js';
import { addressed, modelReplay, type ModelReader, type ModelSend } from '../support/topic-model.js';

const names = ['n', 'm'];
const groups = ['g1', 'g2', 'g3'];
const users = ['u1', 'u2'];
const clientIds = ['c1', 'c2'];
const someOf = <T>(values: T[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: values.length });

/** A target as SseHub.send would get it (lists without repeats). */
const target = fc.record(
  {
    names: someOf(names),
    groups: someOf(groups),
    clientIds: someOf(clientIds),
    users: someOf(users),
  },
  { requiredKeys: ['names'] },
);
const reader: fc.Arbitrary<ModelReader> = fc.record({
  name: fc.constantFrom(...names),
  groups: fc.uniqueArray(fc.constantFrom(...groups), { maxLength: 3 }),
  clientId: fc.constantFrom(...clientIds),
  user: fc.option(fc.constantFrom(...users), { nil: undefined }),
});

describe('per-topic history (property tests against a model)', () => {
  it('the addressing rule is the model\'s', () => {
    fc.assert(
      fc.property(target, reader, (t, r) => {
        expect(isAddressedTo(t, r)).toBe(addressed({ id: '', target: t }, r));
      }),
    );
  });

  it('a reconnecting reader gets exactly what the model keeps for it, in send order, and a gap exactly where the model lost something', () => {
    fc.assert(
      fc.property(fc.array(target, { minLength: 1, maxLength: 60 }), reader, fc.integer({ min: 1, max: 8 }), fc.nat(), (targets, r, size, at) => {
        const generator = new SseEventIds();
        const sends: ModelSend[] = targets.map((t) => ({ id: generator.next(), target: t }));
        const history = new SseMemoryHistory({ size, ttl: 60_000, maxTopics: 1000, maxBytes: 1 << 30 });
        for (const send of sends) {
          history.append({ id: send.id, frame: Buffer.from(`id: ${send.id}\ndata: x\n\n`), target: send.target, sentAt: Date.now() });
        }
        const position = at % sends.length;
        const replay = history.since(r, sends[position].id);
        const expected = modelReplay(sends, size, r, position);
        expect(replay.frames.map((frame) => frame.toString().slice(4, frame.indexOf('\n')))).toEqual(expected.ids);
        expect(replay.lostTopics).toEqual(expected.lostTopics);
        history.onApplicationShutdown();
      }),
      { numRuns: 300 },
    );
  });
});
