import http2, { type ClientHttp2Session } from 'node:http2';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Platform } from './app.js';
import { selfSignedCertificate, type SelfSignedCertificate } from './tls.js';

/** Fastify speaking HTTP/2 in clear text (h2c: what `node:http2` clients and proxies can speak; no browser does). */
export const fastifyH2c: Platform = { name: 'fastify h2c', createAdapter: () => new FastifyAdapter({ http2: true }) };

let certificate: SelfSignedCertificate | undefined;

/** The self-signed certificate of the TLS platforms of this test file (made once, at first use). */
export function testCertificate(): SelfSignedCertificate {
  return (certificate ??= selfSignedCertificate());
}

/** Removes the test certificate's files, if one was made (afterAll). */
export function removeTestCertificate(): void {
  certificate?.remove();
  certificate = undefined;
}

/**
 * Fastify over TLS speaking HTTP/2, and HTTP/1.1 to clients that do not offer
 * h2 in ALPN (`allowHTTP1`): the way browsers reach an HTTP/2 origin.
 */
export const fastifyH2: Platform = {
  name: 'fastify h2 (TLS)',
  scheme: 'https',
  createAdapter: () => {
    const { key, cert } = testCertificate();
    return new FastifyAdapter({ http2: true, https: { key, cert, allowHTTP1: true } });
  },
};

/** Sessions a test opened, closed after it (`afterEach(sessions.closeAll)`). */
export class Http2Sessions {
  private readonly open: ClientHttp2Session[] = [];

  /** Connects to `url` (a self-signed certificate is accepted); resolves once the session is up. */
  async connect(url: string): Promise<ClientHttp2Session> {
    const session = http2.connect(url, { rejectUnauthorized: false });
    this.open.push(session);
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    return session;
  }

  /** Destroys every session (and so its streams). */
  closeAll = (): void => {
    for (const session of this.open.splice(0)) session.destroy();
  };
}

/** A plain request over a session: status and body. */
export function http2Get(session: ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
  });
}
