import { MAX_LAST_EVENT_ID_LENGTH, PROTOCOL_EVENT_PREFIX } from '../sse.constants.js';
import { isWellFormedText } from '../addressing/identifiers.js';
import { assertMilliseconds } from '../config/value-checks.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseEventTooLargeError } from '../errors/sse-event-too-large.error.js';
import { SseMessages } from '../sse.messages.js';
import type { SseEvent } from '../interfaces/sse-event.interface.js';
import type { SseEncodedEvents, SsePreparedEvents, SseReplayMode } from '../interfaces/sse-transport.interface.js';

/**
 * The one encoder of the wire format (HTML §9.2): every event is validated and
 * encoded here once per send, whatever the number of recipients; transports
 * only put an `id:` line in front (`frameEvents`).
 */

// The HTML spec ends a line at CRLF, a lone CR or a lone LF (§9.2.5).
const LINE_BREAK = /\r\n|\r|\n/;
// What the spec's line splitting and field parsing cannot carry in `event` and `id`.
const FRAME_BREAKERS = /[\r\n\u0000]/;

/** The keep-alive comment: ignored by EventSource, keeps proxies and sockets alive. */
export const KEEP_ALIVE_FRAME = Buffer.from(': ping\n\n');

/** Checks the fields of one event that go on the wire as they are. */
export function assertEvent(event: SseEvent<unknown>): void {
  if (typeof event !== 'object' || event === null || !('data' in event)) {
    throw new SseInvalidArgumentError(SseMessages.invalidEvent(event));
  }
  const { event: type, id, retry, replay } = event;
  if (
    type !== undefined &&
    (typeof type !== 'string' ||
      type.length === 0 ||
      FRAME_BREAKERS.test(type) ||
      !isWellFormedText(type) ||
      type.startsWith(PROTOCOL_EVENT_PREFIX))
  ) {
    throw new SseInvalidArgumentError(SseMessages.invalidEventField('event', type));
  }
  if (id !== undefined) {
    if (typeof id !== 'string' || FRAME_BREAKERS.test(id) || !isWellFormedText(id)) {
      throw new SseInvalidArgumentError(SseMessages.invalidEventField('id', id));
    }
    if (id.length > MAX_LAST_EVENT_ID_LENGTH) throw new SseInvalidArgumentError(SseMessages.eventIdTooLong(MAX_LAST_EVENT_ID_LENGTH));
  }
  if (retry !== undefined) assertMilliseconds('event retry', retry);
  if (replay !== undefined && typeof replay !== 'boolean' && replay !== 'latest') {
    throw new SseInvalidArgumentError(SseMessages.invalidValue('event replay', "true, false or 'latest'", replay));
  }
}

/** The replay mode of a valid event (`SseEvent.replay`). */
const modeOf = (event: SseEvent<unknown>): SseReplayMode =>
  event.replay === false ? 'none' : event.replay === 'latest' ? 'latest' : 'all';

function dataText(data: unknown): string {
  if (typeof data === 'string') {
    // Refused rather than silently sent as U+FFFD: the client would read other text than was sent.
    if (!isWellFormedText(data)) throw new SseInvalidArgumentError(SseMessages.malformedTextData());
    return data;
  }
  if (data === undefined) return '';
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (error) {
    throw new SseInvalidArgumentError(SseMessages.unserializableData((error as Error).message));
  }
  // JSON.stringify yields undefined for functions and symbols: refuse rather than send nothing.
  // (It escapes lone surrogates as \udXXX, so JSON data always round-trips.)
  if (text === undefined) throw new SseInvalidArgumentError(SseMessages.unserializableData(typeof data));
  return text;
}

/**
 * One event as the text of its frame without the `id:` line (which comes first,
 * once the id is known): fields, `data:` lines, the blank line.
 */
export function encodeEventBody(event: SseEvent<unknown>): string {
  assertEvent(event);
  let frame = '';
  if (event.event !== undefined) frame += `event: ${event.event}\n`;
  if (event.retry !== undefined) frame += `retry: ${event.retry}\n`;
  for (const line of dataText(event.data).split(LINE_BREAK)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/** Throws `SseEventTooLargeError` when a frame of `size` bytes exceeds `maxEventBytes` (when set). */
export function assertEventSize(size: number, maxEventBytes: number | undefined): void {
  if (maxEventBytes !== undefined && size > maxEventBytes) {
    throw new SseEventTooLargeError(SseMessages.eventTooLarge(size, maxEventBytes), size, maxEventBytes);
  }
}

const idLineOf = (id: string) => `id: ${id}\n`;

/**
 * Validates and encodes one event or several (one send). Throws
 * `SseInvalidArgumentError` or `SseEventTooLargeError` before producing
 * anything; the size counts the event's own `id:` line, not a generated one.
 */
export function encodeEvents(
  events: SseEvent<unknown> | readonly SseEvent<unknown>[],
  maxEventBytes?: number,
): SseEncodedEvents {
  const list: readonly SseEvent<unknown>[] = Array.isArray(events) ? events : [events as SseEvent<unknown>];
  const texts: string[] = new Array(list.length);
  const ids: Array<string | undefined> = new Array(list.length);
  // Only a send that asks for another mode carries modes: the usual send stays as small as before.
  let modes: SseReplayMode[] | undefined;
  for (let i = 0; i < list.length; i++) {
    texts[i] = encodeEventBody(list[i]);
    ids[i] = list[i].id;
    const mode = modeOf(list[i]);
    if (mode !== 'all') (modes ??= new Array<SseReplayMode>(list.length).fill('all'))[i] = mode;
    if (maxEventBytes !== undefined) {
      const idLine = ids[i] === undefined ? 0 : Buffer.byteLength(idLineOf(ids[i]!));
      assertEventSize(Buffer.byteLength(texts[i]) + idLine, maxEventBytes);
    }
  }
  return modes ? { texts, ids, modes } : { texts, ids };
}

/**
 * The frames of a send: each event's `id:` line (none where `ids[i]` is
 * undefined) and its encoded text, and all of them in one buffer — what every
 * recipient gets in one write, so nothing (a keep-alive) lands between them.
 */
export function frameEvents<Id extends string | undefined>(
  texts: readonly string[],
  ids: readonly Id[],
  modes?: readonly SseReplayMode[],
): SsePreparedEvents<Id> {
  const frames: Buffer[] = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const id = ids[i];
    frames[i] = Buffer.from(id === undefined ? texts[i] : idLineOf(id) + texts[i]);
  }
  const frame = frames.length === 1 ? frames[0] : Buffer.concat(frames);
  return modes ? { ids, frames, frame, modes } : { ids, frames, frame };
}

const ID_FIELD = 'id: ';
const EVENT_FIELD = 'event: ';

/** The `event` type of a frame made here (`message` when it has none): what `replay: 'latest'` keeps one of. */
export function eventTypeOf(frame: Buffer): string {
  // The layout encodeEventBody writes: an optional `id:` line, then `event:` when there is one.
  const start = frame.indexOf(ID_FIELD) === 0 ? frame.indexOf(0x0a) + 1 : 0;
  if (frame.indexOf(EVENT_FIELD, start) !== start) return 'message';
  return frame.toString('utf8', start + EVENT_FIELD.length, frame.indexOf(0x0a, start));
}

/** Events with their own ids only, as one buffer: what a local stream's send writes. */
export function encodeFrame(events: SseEvent<unknown> | readonly SseEvent<unknown>[], maxEventBytes?: number): Buffer {
  const encoded = encodeEvents(events, maxEventBytes);
  return frameEvents(encoded.texts, encoded.ids).frame;
}

/**
 * A frame of the library's own protocol (`sse.open`, `sse.close`, `sse.error`,
 * `sse.gap`), with JSON data; a `retry:` line first when given, and an `id:`
 * (a stop token, made of safe characters) when given.
 */
export function encodeProtocolFrame(type: string, data: unknown, retry?: number, id?: string): Buffer {
  const retryLine = retry === undefined ? '' : `retry: ${retry}\n`;
  const idLine = id === undefined ? '' : idLineOf(id);
  return Buffer.from(`${retryLine}${idLine}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}
