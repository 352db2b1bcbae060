import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BenchSubject } from './subject.js';

/**
 * The yardstick: a plain node:http server that keeps its responses in a Set
 * and writes each pre-formatted frame to each of them — what a careful
 * hand-written SSE endpoint does.
 */
export async function start(): Promise<BenchSubject> {
  const clients = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    if (req.url !== '/sse') {
      res.writeHead(404).end();
      return;
    }
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
    });
    res.flushHeaders();
    clients.add(res);
    res.on('close', () => clients.delete(res));
  });
  server.maxConnections = Infinity;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 2048, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => clients.size,
    broadcast(payload) {
      const frame = Buffer.from(`data: ${payload}\n\n`);
      for (const res of clients) res.write(frame);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of clients) res.destroy();
        server.close(() => resolve());
      }),
  };
}
