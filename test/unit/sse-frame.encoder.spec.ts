import { encodeFrame, encodeProtocolFrame, KEEP_ALIVE_FRAME } from '../../lib/delivery/sse-frame.encoder.js';
import { SseInvalidArgumentError } from '../../lib/errors/sse-invalid-argument.error.js';
import type { SseEvent } from '../../lib/interfaces/sse-event.interface.js';
import { parseSse } from '../support/sse-parser.js';

/** One event's frame as text. */
const encodeText = (event: SseEvent<unknown>): string => encodeFrame(event).toString('utf8');

/** Parses encoded text with the same spec parser the e2e client uses. */
const parse = (text: string) => parseSse(text);

describe('encodeFrame (one event)', () => {
  it('writes id, event, retry, then one data line per line, then a blank line', () => {
    expect(encodeText({ id: '1', event: 'tick', retry: 10, data: 'a\nb' })).toBe('id: 1\nevent: tick\nretry: 10\ndata: a\ndata: b\n\n');
  });

  it('splits on LF, CR and CRLF alike', () => {
    expect(encodeText({ data: 'a\rb\r\nc\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(encodeText({ data: '\n' })).toBe('data: \ndata: \n\n');
  });

  it('sends an empty string, and undefined data, as one empty data line', () => {
    expect(encodeText({ data: '' })).toBe('data: \n\n');
    expect(encodeText({ data: undefined })).toBe('data: \n\n');
  });

  it('JSON-encodes non-strings on one line', () => {
    expect(encodeText({ data: { a: 'x\ny' } })).toBe('data: {"a":"x\\ny"}\n\n');
    expect(encodeText({ data: 0 })).toBe('data: 0\n\n');
    expect(encodeText({ data: false })).toBe('data: false\n\n');
    expect(encodeText({ data: null })).toBe('data: null\n\n');
  });

  it('keeps leading spaces of data (the parser strips exactly one)', () => {
    expect(parse(encodeText({ data: '  indented' })).events[0].data).toBe('  indented');
  });

  it('round-trips through a spec parser', () => {
    const samples: SseEvent<unknown>[] = [
      { data: 'plain' },
      { data: 'multi\nline\r\ntext\rend' },
      { event: 'emoji', data: '🌍 中文 ü' },
      { id: 'id-1', data: { nested: [1, 2, { deep: true }] } },
      { data: '' },
      { data: ': not a comment' },
      { data: 'data: not a field' },
    ];
    const { events } = parse(samples.map((event) => encodeText(event)).join(''));
    expect(events.map((e) => e.data)).toEqual([
      'plain',
      'multi\nline\ntext\nend',
      '🌍 中文 ü',
      '{"nested":[1,2,{"deep":true}]}',
      '',
      ': not a comment',
      'data: not a field',
    ]);
    expect(events[2].event).toBe('emoji');
    expect(events[3].id).toBe('id-1');
  });

  it.each<[string, unknown]>([
    ['not an object', 'hello'],
    ['null', null],
    ['no data', { event: 'x' }],
    ['LF in event', { event: 'a\nb', data: 1 }],
    ['CR in event', { event: 'a\rb', data: 1 }],
    ['NUL in event', { event: 'a\0b', data: 1 }],
    ['an sse.* event', { event: 'sse.gap', data: 1 }],
    ['an empty event', { event: '', data: 1 }],
    ['LF in id', { id: 'a\nb', data: 1 }],
    ['CR in id', { id: 'a\rb', data: 1 }],
    ['NUL in id', { id: 'a\0b', data: 1 }],
    ['a numeric id', { id: 7, data: 1 }],
    ['an id over 1024 characters', { id: 'x'.repeat(1025), data: 1 }],
    ['a negative retry', { retry: -1, data: 1 }],
    ['a NaN retry', { retry: Number.NaN, data: 1 }],
    ['a function', { data: () => 1 }],
    ['a symbol', { data: Symbol('s') }],
    ['a BigInt', { data: 1n }],
  ])('refuses %s with SseInvalidArgumentError', (_label, event) => {
    expect(() => encodeText(event as SseEvent)).toThrow(SseInvalidArgumentError);
  });

  it('refuses circular data with a clear message', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => encodeText({ data: circular })).toThrow(/^nestjs-sse-hub: event data cannot be JSON-encoded/);
  });

  it('accepts an id of exactly 1024 characters and an sse-like but different type', () => {
    expect(() => encodeText({ id: 'x'.repeat(1024), data: 1 })).not.toThrow();
    expect(encodeText({ event: 'sse', data: 1 })).toContain('event: sse\n');
    expect(encodeText({ event: 'SSE.open', data: 1 })).toContain('event: SSE.open\n');
  });
});

describe('encodeFrame', () => {
  it('encodes one event or several into one UTF-8 buffer, in order', () => {
    expect(encodeFrame({ data: 'é' }).toString('utf8')).toBe('data: é\n\n');
    const buffer = encodeFrame([{ data: 1 }, { event: 'b', data: 2 }]);
    expect(buffer.toString('utf8')).toBe('data: 1\n\nevent: b\ndata: 2\n\n');
  });

  it('refuses the whole batch when one event is bad', () => {
    expect(() => encodeFrame([{ data: 1 }, { event: 'a\nb', data: 2 }])).toThrow(SseInvalidArgumentError);
  });

  it('encodes an empty array as nothing', () => {
    expect(encodeFrame([]).length).toBe(0);
  });
});

describe('protocol frames', () => {
  it('encodes sse.open with retry first, and JSON data', () => {
    const text = encodeProtocolFrame('sse.open', { clientId: 'a"b', name: 'n', group: null }, 2000).toString();
    expect(text).toBe('retry: 2000\nevent: sse.open\ndata: {"clientId":"a\\"b","name":"n","group":null}\n\n');
    const parsed = parse(text);
    expect(parsed.retry).toBe(2000);
    expect(JSON.parse(parsed.events[0].data)).toEqual({ clientId: 'a"b', name: 'n', group: null });
  });

  it('encodes sse.close with its reason as data (an event without data would never dispatch)', () => {
    expect(encodeProtocolFrame('sse.close', { reason: 'server' }).toString()).toBe('event: sse.close\ndata: {"reason":"server"}\n\n');
  });

  it('the keep-alive is a comment the parser reports as "ping" and never as an event', () => {
    expect(KEEP_ALIVE_FRAME.toString()).toBe(': ping\n\n');
    const parsed = parse(KEEP_ALIVE_FRAME.toString() + encodeText({ data: 'x' }));
    expect(parsed.comments).toEqual(['ping']);
    expect(parsed.events.map((e) => e.data)).toEqual(['x']);
  });
});
