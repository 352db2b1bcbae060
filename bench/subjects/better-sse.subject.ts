import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createChannel, createSession } from 'better-sse';
import type { BenchSubject } from './subject.js';

/**
 * better-sse: one channel, a session per request (registered once connected),
 * `channel.broadcast()` per event. The serializer passes the payload through
 * as it is (the default would JSON-quote it), so the data bytes equal the
 * other subjects'; everything else is better-sse's defaults.
 */
export async function start(): Promise<BenchSubject> {
  const channel = createChannel();
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/sse') {
      res.writeHead(404).end();
      return;
    }
    channel.register(await createSession(req, res, { serializer: (data) => String(data) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 2048, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => channel.sessionCount,
    broadcast: (payload) => void channel.broadcast(payload),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
