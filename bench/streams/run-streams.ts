/**
 * The resumable-streams figures of `npm run bench`: what recording costs per
 * event against an ordinary local stream (bench/streams/streams-server.ts),
 * for one stream at full speed and for many streams at a steady rate. The
 * load generator is this process (node:http, counting frames); server CPU is
 * the server process's own. Written between the bench:streams markers of
 * bench/RESULTS.md.
 */
import http from 'node:http';
import os from 'node:os';
import { ask } from '../ipc.js';
import { writeResultsBlock } from '../results-file.js';
import { startChild, stopped } from '../measure.js';

interface StreamsCase {
  label: string;
  streams: number;
  events: number;
  bytes: number;
  /** Events per second per stream; 0 = as fast as the client reads. */
  rate: number;
}

interface StreamsResult {
  eventsPerSecond: number;
  cpuMicrosPerEvent: number;
  /** RSS after every stream ended, above the server's before (the recordings are kept: ttl). */
  rssAfter: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Reads one stream to its end; resolves with how many events (frames with data) it got. */
function readStream(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { accept: 'text/event-stream' } });
    request.on('response', (response) => {
      let events = 0;
      let tail = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        // Frames end with a blank line; counted across chunk cuts.
        const text = tail + chunk;
        let at = text.indexOf('\n\n');
        let from = 0;
        while (at >= 0) {
          events++;
          from = at + 2;
          at = text.indexOf('\n\n', from);
        }
        tail = text.slice(from);
      });
      response.on('end', () => resolve(events));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

async function measureCase(c: StreamsCase, route: 'plain' | 'resumable'): Promise<StreamsResult> {
  const { child: server, port } = await startChild('streams/streams-server.js', [], ['--expose-gc']);
  try {
    const before = await ask<{ rss: number }>(server, { type: 'memory' });
    await ask(server, { type: 'mark' });
    const started = performance.now();
    const path = `/${route}?count=${c.events}&bytes=${c.bytes}&rate=${c.rate}`;
    const counts = await Promise.all(Array.from({ length: c.streams }, () => readStream(port, path)));
    const seconds = (performance.now() - started) / 1000;
    const { cpuMicros } = await ask<{ cpuMicros: number }>(server, { type: 'cpu' });
    const after = await ask<{ rss: number }>(server, { type: 'memory' });
    // sse.open and sse.close are frames too.
    const events = counts.reduce((sum, n) => sum + n - 2, 0);
    if (events !== c.streams * c.events) throw new Error(`streams bench: ${events} events received, ${c.streams * c.events} sent`);
    return { eventsPerSecond: events / seconds, cpuMicrosPerEvent: cpuMicros / events, rssAfter: after.rss - before.rss };
  } finally {
    await ask(server, { type: 'stop' }).catch(() => undefined);
    await stopped(server);
  }
}

/** Runs the cases; returns their table (markdown) and writes it into RESULTS.md when `write`. */
export async function runStreamsBench(options: { quick: boolean; write: boolean; runs: number }): Promise<string> {
  const cases: StreamsCase[] = [
    { label: 'one stream at full speed', streams: 1, events: options.quick ? 20_000 : 100_000, bytes: 64, rate: 0 },
    { label: '1,000 streams at 50 events/s each (50,000 events/s offered)', streams: 1000, events: options.quick ? 50 : 150, bytes: 64, rate: 50 },
  ];
  const lines = [
    '| case | stream | events/s (all streams) | server CPU per event | server RSS after the streams ended |',
    '| --- | --- | --: | --: | --: |',
  ];
  for (const c of cases) {
    const routes = ['plain', 'resumable'] as const;
    const results: Record<(typeof routes)[number], StreamsResult[]> = { plain: [], resumable: [] };
    // Alternated run by run, so that a busy minute of a shared machine does not fall on one of them only.
    for (let run = 0; run < options.runs; run++) for (const route of routes) results[route].push(await measureCase(c, route));
    const cpu: Record<string, number> = {};
    for (const route of routes) {
      const pick = (key: keyof StreamsResult) => median(results[route].map((r) => r[key]));
      cpu[route] = pick('cpuMicrosPerEvent');
      const overhead = route === 'resumable' ? ` (${((cpu.resumable / cpu.plain - 1) * 100).toFixed(0)} % over ordinary)` : '';
      const row =
        `| ${c.label} (${c.streams * c.events} events of ${c.bytes} bytes) | ${route === 'plain' ? 'ordinary local' : 'resumable (recorded)'} | ` +
        `${Math.round(pick('eventsPerSecond')).toLocaleString('en-US')} | ${pick('cpuMicrosPerEvent').toFixed(2)} µs${overhead} | ` +
        `${(pick('rssAfter') / 2 ** 20).toFixed(1)} MB |`;
      console.log(row);
      lines.push(row);
    }
  }
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  const table = [
    `Produced by \`npm run bench\`${options.quick ? ' --quick' : ''} (streams part) on ${new Date().toISOString().slice(0, 10)}: POST streams on ` +
      `Express, in memory, each event a ${cases[0].bytes}-byte string; server CPU is the server process's (user + system) from the first ` +
      `request to the last stream's end, divided by the events delivered; median of ${options.runs} run(s); load average at the end ${load}.`,
    '',
    ...lines,
  ].join('\n');
  if (options.write) writeResultsBlock('bench:streams', table, 'Resumable streams: what recording costs');
  return table;
}
