import type { AddressInfo } from 'node:net';
import { SseTestClientError } from '../errors/sse-test-client.error.js';
import { SseMessages } from '../sse.messages.js';

/**
 * Where `SseTestClient` connects: a Nest application that listens (anything
 * with `getUrl()`), a Node `http.Server` (anything with `address()`), or a
 * base URL such as `http://127.0.0.1:3000`.
 */
export type SseTestServer = string | URL | { getUrl(): Promise<string> } | { address(): AddressInfo | string | null };

/** The base URL of a server, for `new URL(path, base)`. */
export async function baseUrlOf(server: SseTestServer): Promise<URL> {
  if (typeof server === 'string' || server instanceof URL) return new URL(server);
  if (typeof server === 'object' && server !== null && 'getUrl' in server && typeof server.getUrl === 'function') {
    try {
      return new URL(await server.getUrl());
    } catch {
      throw new SseTestClientError(SseMessages.testingNotListening());
    }
  }
  if (typeof server === 'object' && server !== null && 'address' in server && typeof server.address === 'function') {
    const address = server.address();
    if (address === null) throw new SseTestClientError(SseMessages.testingNotListening());
    if (typeof address === 'string') throw new SseTestClientError(SseMessages.testingBadServer(address));
    // A wildcard address is reached over loopback.
    const host = address.address === '::' || address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
    return new URL(`http://${address.family === 'IPv6' && host !== '127.0.0.1' ? `[${host}]` : host}:${address.port}`);
  }
  throw new SseTestClientError(SseMessages.testingBadServer(server));
}
