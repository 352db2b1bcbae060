import fc from 'fast-check';
import { createParser } from 'eventsource-parser';
import { SseStreamParser } from '../../lib/client/sse-stream-parser.js';

// The browser client's parser (lib/client/sse-stream-parser.ts) against the HTML spec's cases, and
// against eventsource-parser (an independent, spec-compliant parser) on random streams cut anywhere.

interface Parsed {
  events: Array<[string, string, string]>;
  retries: number[];
}

/** Feeds `chunks` to the client's parser; each event with the last event id at its dispatch. */
function parse(chunks: string[], lastEventId = ''): Parsed & { parser: SseStreamParser } {
  const parsed: Parsed = { events: [], retries: [] };
  const parser: SseStreamParser = new SseStreamParser(
    (type, data) => parsed.events.push([type, data, parser.lastEventId]),
    (ms) => parsed.retries.push(ms),
    lastEventId,
  );
  for (const chunk of chunks) parser.feed(chunk);
  return { ...parsed, parser };
}

describe('the client stream parser', () => {
  it('follows the spec: fields, comments, data lines, ids, retry', () => {
    const { events, retries, parser } = parse([
      ': a comment\n',
      'event: chat\ndata: one\ndata:two\nid: 7\n\n',
      'data\n\n',
      'retry: 1500\nretry: 1.5\nretry: x\n',
      'id: bad\u0000id\ndata: keeps 7\n\n',
      'event: empty\n\n',
      'id: 9\n\n',
      'data:  two spaces\nunknown: field\n\n',
      'data: unfinished',
    ]);
    expect(events).toEqual([
      ['chat', 'one\ntwo', '7'],
      ['message', '', '7'],
      ['message', 'keeps 7', '7'],
      ['message', ' two spaces', '9'],
    ]);
    expect(retries).toEqual([1500]);
    // An event without data is not dispatched, but its id still becomes the last event id.
    expect(parser.lastEventId).toBe('9');
  });

  it('ends lines at CRLF, CR or LF, also when a CRLF is cut between two chunks', () => {
    const { events } = parse(['data: a\r', '\ndata: b\r', 'data: c\r\n\r', '\n', 'data: d\r\r', ':']);
    expect(events).toEqual([
      ['message', 'a\nb\nc', ''],
      ['message', 'd', ''],
    ]);
  });

  it('carries the last event id over from the previous stream until an event sets another', () => {
    const { events } = parse(['event: sse.open\ndata: {}\n\ndata: x\nid: 2\n\n'], '1');
    expect(events).toEqual([
      ['sse.open', '{}', '1'],
      ['message', 'x', '2'],
    ]);
  });

  it('agrees with eventsource-parser on random streams cut at random places', () => {
    const line = fc.oneof(
      fc.constantFrom('data: x', 'data:y', 'data', 'data: ', 'event: t', 'event:', 'id: 1', 'id:', 'retry: 100', 'retry: 1x', ': c', ':', ''),
      fc.string({ unit: fc.constantFrom('a', ' ', ':', 'é', '😀'), maxLength: 6 }).map((text) => `data: ${text}`),
    );
    const ending = fc.constantFrom('\n', '\r', '\r\n');
    const stream = fc.array(fc.tuple(line, ending), { maxLength: 40 }).map((lines) => lines.map(([l, e]) => l + e).join(''));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (text, cuts) => {
        const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...points].map((start, i) => text.slice(start, [...points, text.length][i]));
        const expected: Parsed = { events: [], retries: [] };
        let lastId = '';
        const reference = createParser({
          onEvent: (event) => {
            if (event.id !== undefined) lastId = event.id;
            expected.events.push([event.event || 'message', event.data, lastId]);
          },
          onRetry: (ms) => expected.retries.push(ms),
        });
        for (const chunk of chunks) reference.feed(chunk);
        const actual = parse(chunks);
        expect(actual.events).toEqual(expected.events);
        expect(actual.retries).toEqual(expected.retries);
      }),
      { numRuns: 500 },
    );
  });
});
