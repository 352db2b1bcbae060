import { TextDecoder } from 'node:util';
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';

export type { EventSourceMessage };

/** What a parser reports, as it parses. */
export interface SseParserHandlers {
  onEvent?(event: EventSourceMessage): void;
  onComment?(comment: string): void;
  onRetry?(retry: number): void;
}

export interface SseParserOptions extends SseParserHandlers {
  /** Keep every event in `events` (default true); with false, only the handlers see them. */
  keepEvents?: boolean;
  /** Throw on bytes that are not UTF-8 instead of replacing them (default false). */
  fatal?: boolean;
}

/**
 * The one SSE parser of the test suites: the spec's algorithm as
 * `eventsource-parser` implements it (what a browser's EventSource does),
 * fed text or raw bytes in any cuts. Every suite that reads a stream reads it
 * through this: the e2e client (`SseClient`), the raw-socket readers and the
 * encoder's unit and property tests. A public `/testing` subpath can grow from here.
 */
export class SseParser {
  readonly events: EventSourceMessage[] = [];
  readonly comments: string[] = [];
  readonly retries: number[] = [];
  private readonly parser: EventSourceParser;
  private readonly decoder: TextDecoder;

  constructor(private readonly options: SseParserOptions = {}) {
    this.decoder = new TextDecoder('utf-8', { fatal: options.fatal ?? false });
    this.parser = createParser({
      onEvent: (event) => {
        if (options.keepEvents !== false) this.events.push(event);
        options.onEvent?.(event);
      },
      onComment: (comment) => {
        this.comments.push(comment);
        options.onComment?.(comment);
      },
      onRetry: (retry) => {
        this.retries.push(retry);
        options.onRetry?.(retry);
      },
    });
  }

  /** The last `retry:` value seen, as EventSource keeps it. */
  get retry(): number | undefined {
    return this.retries.at(-1);
  }

  /** Feeds text, or bytes (decoded as one UTF-8 stream, so a character may be cut anywhere). */
  feed(chunk: string | Uint8Array): this {
    this.parser.feed(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
    return this;
  }

  /** Flushes what a byte cut held back. An event without its blank line is never dispatched (HTML §9.2.6). */
  end(): this {
    const rest = this.decoder.decode();
    if (rest) this.parser.feed(rest);
    return this;
  }

  /** `[type, data]` of every event so far, untyped ones as `message`. */
  typesAndData(): Array<[string, string]> {
    return this.events.map((event) => [event.event ?? 'message', event.data]);
  }
}

/** Parses a whole stream (text, bytes, or the chunks it arrived in). */
export function parseSse(input: string | Uint8Array | Array<string | Uint8Array>, options: SseParserOptions = {}): SseParser {
  const parser = new SseParser(options);
  for (const chunk of Array.isArray(input) ? input : [input]) parser.feed(chunk);
  return parser.end();
}
