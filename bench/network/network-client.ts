/**
 * The network bench's load generator: opens event streams over HTTP/1.1
 * (one connection each) or HTTP/2 (many streams per session), with or
 * without `Accept-Encoding: gzip`, counts the bytes that come off the wire
 * and the events they decode to (gzip through a streaming gunzip per stream).
 */
import http from 'node:http';
import http2 from 'node:http2';
import { constants, createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { serve } from '../ipc.js';

const EVENT_END = '\n\n';

let wireBytes = 0;
let events = 0;
let expected = Infinity;
let started = 0;
let done: (() => void) | undefined;
const closers: Array<() => void> = [];

/** Counts one stream: wire bytes as they arrive, events once decoded (the first, sse.open, is counted too: reset() forgets it). */
function read(raw: Readable, gzip: boolean): void {
  raw.on('data', (chunk: Buffer) => (wireBytes += chunk.length));
  const body = gzip ? raw.pipe(createGunzip({ flush: constants.Z_SYNC_FLUSH })) : raw;
  let tail = '';
  body.setEncoding('utf8');
  body.on('data', (text: string) => {
    const all = tail + text;
    let at = all.indexOf(EVENT_END);
    let last = 0;
    while (at >= 0) {
      events++;
      last = at + EVENT_END.length;
      at = all.indexOf(EVENT_END, last);
    }
    tail = all.slice(last);
    if (events >= expected) done?.();
  });
}

function openHttp1(port: number, gzip: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/sse', agent: false, headers: { accept: 'text/event-stream', ...(gzip ? { 'accept-encoding': 'gzip' } : {}) } });
    request.on('response', (response) => {
      read(response, response.headers['content-encoding'] === 'gzip');
      resolve();
    });
    request.on('error', reject);
    closers.push(() => request.destroy());
  });
}

async function openHttp2(port: number, gzip: boolean, streams: number): Promise<void> {
  // Flow-control windows as Chromium sets them (6 MB per stream, 15 MB per session): with
  // HTTP/2's 64 KB defaults a burst to 100 streams waits in the server's memory, not the kernel's.
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 6 * 2 ** 20 } });
  session.once('connect', () => session.setLocalWindowSize(15 * 2 ** 20));
  closers.push(() => session.destroy());
  await Promise.all(
    Array.from(
      { length: streams },
      () =>
        new Promise<void>((resolve, reject) => {
          const stream = session.request({ ':path': '/sse', accept: 'text/event-stream', ...(gzip ? { 'accept-encoding': 'gzip' } : {}) });
          stream.on('response', (headers) => {
            read(stream, headers['content-encoding'] === 'gzip');
            resolve();
          });
          stream.on('error', reject);
        }),
    ),
  );
}

serve(async (request) => {
  switch (request.type) {
    case 'open': {
      const { port, clients, gzip, streamsPerSession } = request as unknown as { port: number; clients: number; gzip: boolean; streamsPerSession: number };
      // In waves, so that the server is not asked for thousands of heads at once.
      for (let opened = 0; opened < clients; ) {
        const wave = Math.min(200, clients - opened);
        if (streamsPerSession > 0) {
          const sessions = Math.ceil(wave / streamsPerSession);
          await Promise.all(Array.from({ length: sessions }, (_, i) => openHttp2(port, gzip, Math.min(streamsPerSession, wave - i * streamsPerSession))));
        } else {
          await Promise.all(Array.from({ length: wave }, () => openHttp1(port, gzip)));
        }
        opened += wave;
      }
      return {};
    }
    case 'reset':
      // From now: wire bytes and events of the emission only (heads and sse.open are behind us once the server counts every client).
      wireBytes = 0;
      events = 0;
      expected = request.events as number;
      started = performance.now();
      return {};
    case 'wait':
      await new Promise<void>((resolve) => {
        done = resolve;
        if (events >= expected) resolve();
      });
      return { wireBytes, events, ms: performance.now() - started };
    case 'close':
      for (const close of closers.splice(0)) close();
      return {};
    default:
      throw new Error(`unknown request ${request.type}`);
  }
});
process.send?.({ type: 'ready' });
