import net from 'node:net';
import { Conditions } from './conditions.js';

/** One HTTP/1.1 response read off the wire. */
export interface WireResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The body, de-chunked. */
  body: Buffer;
}

/** What a byte sequence parses into: whole responses, then what is left (an incomplete response, or garbage). */
export interface WireParse {
  responses: WireResponse[];
  /** Bytes after the last whole response. */
  rest: Buffer;
  /** Set when `rest` cannot be the start of a response (bytes after a terminating chunk, a bad chunk size). */
  error?: string;
}

const CRLF = Buffer.from('\r\n');

/**
 * Parses back-to-back HTTP/1.1 responses (`Content-Length` or chunked bodies,
 * no trailers) as a keep-alive client must: every byte belongs to a response,
 * so anything a server writes after a terminating `0\r\n\r\n` shows up as an
 * `error` or as a response that does not parse.
 */
export function parseResponses(bytes: Buffer): WireParse {
  const responses: WireResponse[] = [];
  let at = 0;
  for (;;) {
    if (at === bytes.length) return { responses, rest: Buffer.alloc(0) };
    const rest = bytes.subarray(at);
    const prefix = rest.subarray(0, 9).toString('latin1');
    if (!'HTTP/1.1 '.startsWith(prefix) && !prefix.startsWith('HTTP/1.1 ')) {
      return { responses, rest, error: `not a response: ${JSON.stringify(rest.subarray(0, 40).toString('latin1'))}` };
    }
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return { responses, rest };
    const [statusLine, ...lines] = bytes.subarray(at, headEnd).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let cursor = headEnd + 4;
    const parts: Buffer[] = [];
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = bytes.indexOf(CRLF, cursor);
        if (lineEnd < 0) return { responses, rest };
        const sizeText = bytes.subarray(cursor, lineEnd).toString('latin1');
        if (!/^[0-9a-f]+$/i.test(sizeText)) return { responses, rest, error: `bad chunk size line ${JSON.stringify(sizeText.slice(0, 40))}` };
        const size = parseInt(sizeText, 16);
        const dataEnd = lineEnd + 2 + size;
        if (bytes.length < dataEnd + 2) return { responses, rest };
        if (!bytes.subarray(dataEnd, dataEnd + 2).equals(CRLF)) return { responses, rest, error: 'chunk not followed by CRLF' };
        parts.push(bytes.subarray(lineEnd + 2, dataEnd));
        cursor = dataEnd + 2;
        if (size === 0) break;
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (bytes.length < cursor + length) return { responses, rest };
      parts.push(bytes.subarray(cursor, cursor + length));
      cursor += length;
    }
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body: Buffer.concat(parts) });
    at = cursor;
  }
}

/**
 * A raw TCP connection speaking HTTP/1.1 keep-alive, so that a test controls
 * every byte: it sends requests on one socket, can stop reading (real kernel
 * backpressure) and resume, and keeps every byte it received.
 */
export class KeepAliveSocket {
  private readonly chunks: Buffer[] = [];
  private readonly conditions = new Conditions();
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (data: Buffer) => {
      this.chunks.push(data);
      this.conditions.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.conditions.notify();
    });
  }

  /** Connects to the host and port of `url`. */
  static connect(url: string): Promise<KeepAliveSocket> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => resolve(new KeepAliveSocket(socket)));
      socket.once('error', reject);
    });
  }

  /** Every byte received so far. */
  get received(): Buffer {
    if (this.chunks.length > 1) this.chunks.splice(0, this.chunks.length, Buffer.concat(this.chunks));
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Sends a GET with `headers`, keeping the connection alive. */
  get(path: string, headers: Record<string, string> = {}): void {
    const lines = Object.entries({ host: 'localhost', connection: 'keep-alive', ...headers }).map(([k, v]) => `${k}: ${v}`);
    this.socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  }

  /** Stops reading: the kernel's buffers fill and the server sees backpressure. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Resolves once `predicate` holds, re-checked on every byte received and on close. */
  waitFor<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
    return this.conditions.waitFor(predicate, what, () => `received ${this.received.length} bytes`, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
