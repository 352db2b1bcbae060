import { assertEvent, isWellFormedText } from '../config/sse.validation.js';
import { SseInvalidArgumentError } from '../errors/sse-invalid-argument.error.js';
import { SseEventTooLargeError } from '../errors/sse-event-too-large.error.js';
import { SseMessages } from '../sse.messages.js';
import type { SseEvent } from '../interfaces/sse-event.interface.js';

// The HTML spec ends a line at CRLF, a lone CR or a lone LF (§9.2.5).
const LINE_BREAK = /\r\n|\r|\n/;

/** The keep-alive comment: ignored by EventSource, keeps proxies and sockets alive. */
export const KEEP_ALIVE_FRAME = Buffer.from(': ping\n\n');

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
 * Encodes one event as the text of one frame without its `id:` line (which
 * comes first, added once the id is known). Throws `SseInvalidArgumentError`
 * before producing anything for a bad event (its `id` included).
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

/**
 * Encodes one event as the text of one frame (fields, then the blank line).
 * Throws `SseInvalidArgumentError` before producing anything for a bad event.
 * `id` replaces the event's own id (a generated one, already safe).
 */
export function encodeEventText(event: SseEvent<unknown>, id?: string): string {
  const body = encodeEventBody(event);
  id ??= event.id;
  return id === undefined ? body : `id: ${id}\n${body}`;
}

/**
 * Encodes one or several events into a single buffer, so that they reach each
 * socket in one write and nothing (a keep-alive) can land between their lines.
 * With `maxEventBytes`, any event whose frame is larger throws
 * `SseEventTooLargeError` and nothing is produced.
 */
export function encodeEvents(events: SseEvent<unknown> | readonly SseEvent<unknown>[], maxEventBytes?: number): Buffer {
  if (!Array.isArray(events)) {
    const frame = Buffer.from(encodeEventText(events as SseEvent<unknown>));
    assertEventSize(frame.length, maxEventBytes);
    return frame;
  }
  let text = '';
  for (const event of events) {
    const eventText = encodeEventText(event);
    if (maxEventBytes !== undefined) assertEventSize(Buffer.byteLength(eventText), maxEventBytes);
    text += eventText;
  }
  return Buffer.from(text);
}

/** A frame of the library's own protocol (`sse.open`, `sse.close`, `sse.error`), with JSON data. */
export function encodeProtocolFrame(type: string, data: unknown, retry?: number): Buffer {
  const retryLine = retry === undefined ? '' : `retry: ${retry}\n`;
  return Buffer.from(`${retryLine}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}
