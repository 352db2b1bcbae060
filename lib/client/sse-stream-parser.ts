/**
 * The event stream interpretation of the HTML spec (§9.2.6), fed with decoded
 * text as it arrives: lines end at CRLF, CR or LF (also when a CRLF is split
 * between two chunks); `:` lines are comments; `data` lines are joined with
 * LF; an `id` with NUL is ignored; `retry` takes ASCII digits only; a blank
 * line dispatches the event, unless it has no data. What an unfinished event
 * holds when the stream ends is dropped, as the spec says.
 */
export class SseStreamParser {
  private buffer = '';
  private data = '';
  private type = '';
  private id: string;
  /**
   * The last event id: set when an event is dispatched (the spec's "last event
   * ID string"), whether or not the event had data.
   */
  lastEventId: string;

  constructor(
    /** Called for every dispatched event, with its type (`message` when none) and data. */
    private readonly onEvent: (type: string, data: string) => void,
    /** Called with every valid `retry:` value. */
    private readonly onRetry: (ms: number) => void,
    /** The last event id so far: it carries over from the previous stream, as browsers do. */
    lastEventId: string,
  ) {
    this.id = this.lastEventId = lastEventId;
  }

  /** Parses the next piece of the stream. */
  feed(text: string): void {
    const buffer = this.buffer + text;
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    for (let match = lineEnd.exec(buffer); match; match = lineEnd.exec(buffer)) {
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (match[0] === '\r' && lineEnd.lastIndex === buffer.length) break;
      this.line(buffer.slice(start, match.index));
      start = lineEnd.lastIndex;
    }
    this.buffer = buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line[0] === ':') return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'data') this.data += `${value}\n`;
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.onRetry(Number(value));
  }

  private dispatch(): void {
    this.lastEventId = this.id;
    const { data, type } = this;
    this.data = this.type = '';
    if (data !== '') this.onEvent(type || 'message', data.slice(0, -1));
  }
}
