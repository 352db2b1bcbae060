import fc from 'fast-check';
import { encodeFrame } from '../../lib/delivery/sse-frame.encoder.js';
import { SseEventTooLargeError, SseInvalidArgumentError } from '../../lib/index.js';
import type { SseEvent } from '../../lib/index.js';
import { parseSse, type SseParser } from '../support/sse-parser.js';

/**
 * Parses frames with the shared spec parser, fed in arbitrary byte chunks (as
 * a socket would deliver them); invalid UTF-8 throws.
 */
function parse(frames: Buffer, cuts: number[] = []): SseParser {
  const points = [...new Set(cuts.map((cut) => cut % (frames.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, frames.length]) {
    chunks.push(frames.subarray(start, point));
    start = point;
  }
  return parseSse(chunks, { fatal: true });
}

/** What EventSource hands the page: every line break of the data as LF (HTML §9.2.6). */
const asReceived = (text: string) => text.replace(/\r\n|\r/g, '\n');

// Pieces chosen to attack the framing, mixed with any well-formed text.
const tricky = fc.constantFrom(
  '\r', '\n', '\r\n', '\n\r', '\r\r', '\0', ' ', ':', 'data: x', 'event: evil', 'id: 1', 'retry: 1',
  '\n\ndata: injected\n\n', '\uFEFF', '😀', '👩‍👩‍👧', 'é', '\u2028', '\u0085',
);
const wellFormedText = fc.array(fc.oneof(tricky, fc.string({ unit: 'binary' })), { maxLength: 20 }).map((parts) => parts.join(''));
const loneSurrogate = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdbff }),
  fc.integer({ min: 0xdc00, max: 0xdfff }),
).map((code) => String.fromCharCode(code));
/** Text with at least one unpaired surrogate (a pair never forms: a high one is never followed by a low one). */
const malformedText = fc
  .tuple(wellFormedText, loneSurrogate, wellFormedText)
  .filter(([before, lone, after]) => !(/[\ud800-\udbff]$/.test(before) && /^[\udc00-\udfff]/.test(lone)) && !(/^[\ud800-\udbff]$/.test(lone) && /^[\udc00-\udfff]/.test(after)))
  .map(([before, lone, after]) => before + lone + after);
const cuts = fc.array(fc.nat(), { maxLength: 8 });
const breaker = fc.constantFrom('\r', '\n', '\0', '\r\n');
/** A valid event type or id: well-formed, no CR/LF/NUL. */
const fieldText = wellFormedText.map((text) => text.replace(/[\r\n\0]/g, ''));
const eventType = fieldText.filter((text) => text.length > 0 && !text.startsWith('sse.'));
const eventId = fieldText.filter((text) => text.length <= 1024);
const sentinel = encodeFrame({ event: 'sentinel', data: 'end' });

describe('frame encoder (property tests with eventsource-parser)', () => {
  it('string data reads back as sent (line breaks as LF), as exactly one event', () => {
    fc.assert(
      fc.property(wellFormedText, cuts, (data, at) => {
        const { events } = parse(Buffer.concat([encodeFrame({ data }), sentinel]), at);
        expect(events).toHaveLength(2);
        expect(events[0]).toEqual({ data: asReceived(data), event: undefined, id: undefined });
        expect(events[1]).toMatchObject({ event: 'sentinel', data: 'end' });
      }),
      { numRuns: 500 },
    );
  });

  it('any JSON value (other than a string, which is sent as is) reads back equal, as exactly one event', () => {
    const nonString = fc.jsonValue({ stringUnit: 'binary' }).filter((value) => typeof value !== 'string');
    fc.assert(
      fc.property(nonString, cuts, (value, at) => {
        const { events } = parse(Buffer.concat([encodeFrame({ data: value }), sentinel]), at);
        expect(events).toHaveLength(2);
        // The JSON text arrives exactly; parsed, it is the value (JSON itself turns -0 into 0).
        expect(events[0].data).toBe(JSON.stringify(value));
        expect(JSON.parse(events[0].data)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(events[0].event).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('lone surrogates inside JSON data round-trip (JSON.stringify escapes them)', () => {
    fc.assert(
      fc.property(malformedText, malformedText, (key, text) => {
        const value = { [key]: text, list: [text] };
        const { events } = parse(encodeFrame({ data: value }));
        expect(events).toHaveLength(1);
        expect(JSON.parse(events[0].data)).toEqual(value);
      }),
    );
  });

  it('string data with a lone surrogate is refused with a typed error, not sent mangled', () => {
    fc.assert(
      fc.property(malformedText, (data) => {
        expect(() => encodeFrame({ data })).toThrow(SseInvalidArgumentError);
        expect(() => encodeFrame({ data })).toThrow(/unpaired UTF-16 surrogate/);
      }),
    );
  });

  it('very long lines read back whole', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10_000, max: 300_000 }), fc.constantFrom('x', 'é', '😀'), cuts, (length, unit, at) => {
        const data = `${unit.repeat(length)}\n${'y'.repeat(length)}\r\nend`;
        const { events } = parse(encodeFrame({ data }), at);
        expect(events).toHaveLength(1);
        expect(events[0].data).toBe(asReceived(data));
      }),
      { numRuns: 15 },
    );
  });

  it('valid event types, ids and retries read back as sent', () => {
    fc.assert(
      fc.property(wellFormedText, eventType, eventId, fc.nat(), cuts, (data, type, id, retry, at) => {
        const { events, retries } = parse(encodeFrame({ data, event: type, id, retry }), at);
        expect(events).toEqual([{ data: asReceived(data), event: type, id }]);
        expect(retries).toEqual([retry]);
      }),
      { numRuns: 300 },
    );
  });

  it('several events in one write read back in order, one each', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ data: wellFormedText, event: eventType }), { minLength: 1, maxLength: 6 }), cuts, (list, at) => {
        const { events } = parse(encodeFrame(list), at);
        expect(events.map((event) => [event.event, event.data])).toEqual(list.map((event) => [event.event, asReceived(event.data)]));
      }),
    );
  });

  it('an event type or id with CR, LF or NUL is refused before anything is produced', () => {
    fc.assert(
      fc.property(fieldText, breaker, fieldText, fc.constantFrom('event', 'id'), (before, bad, after, field) => {
        const event = { data: 'x', [field]: `${before}${bad}${after}` } as SseEvent<string>;
        expect(() => encodeFrame(event)).toThrow(SseInvalidArgumentError);
        // In a batch, one bad event refuses the whole batch.
        expect(() => encodeFrame([{ data: 'ok' }, event])).toThrow(SseInvalidArgumentError);
      }),
    );
  });

  it('an event type or id with a lone surrogate is refused', () => {
    fc.assert(
      fc.property(malformedText.filter((text) => !/[\r\n\0]/.test(text) && !text.startsWith('sse.') && text.length <= 1024), fc.constantFrom('event', 'id'), (text, field) => {
        expect(() => encodeFrame({ data: 'x', [field]: text } as SseEvent<string>)).toThrow(SseInvalidArgumentError);
      }),
    );
  });

  it('maxEventBytes refuses exactly the events whose frame is larger, with the sizes', () => {
    fc.assert(
      fc.property(wellFormedText, fc.integer({ min: 1, max: 400 }), (data, limit) => {
        const size = encodeFrame({ data }).length;
        if (size <= limit) {
          expect(encodeFrame({ data }, limit).length).toBe(size);
        } else {
          const refusal = (events: SseEvent<string> | SseEvent<string>[]) => {
            try {
              encodeFrame(events, limit);
            } catch (error) {
              return error;
            }
            return undefined;
          };
          expect(refusal({ data })).toBeInstanceOf(SseEventTooLargeError);
          expect(refusal({ data })).toMatchObject({ size, limit });
          // In a batch, the limit applies to each event, and one oversize event refuses the batch.
          expect(refusal([{ data }, { data }])).toMatchObject({ size, limit });
        }
      }),
    );
  });
});
