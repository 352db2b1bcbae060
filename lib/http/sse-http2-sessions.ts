import { Injectable, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { EventEmitter } from 'node:events';
import type { ServerHttp2Session } from 'node:http2';

/**
 * The HTTP/2 sessions of the app's server (Fastify with `http2: true`), so
 * that a shutdown sends each one GOAWAY. Node's HTTP/2 server (before Node 24)
 * closes no session on `server.close()`, and Fastify only with
 * `forceCloseConnections: true`: a browser holding its session open, even an
 * idle one whose streams all ended, would keep `app.close()` waiting.
 * On an HTTP/1.1 server no 'session' event ever fires and this does nothing.
 */
@Injectable()
export class SseHttp2Sessions implements OnApplicationBootstrap {
  private readonly sessions = new Set<ServerHttp2Session>();
  private closing = false;

  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    // Undefined in a standalone app (no HTTP server): nothing to track.
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as EventEmitter | undefined;
    if (typeof server?.on !== 'function') return;
    server.on('session', (session: ServerHttp2Session) => {
      // One that arrives after shutdown began goes at once (after any request it already carries).
      if (this.closing) return session.close();
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
  }

  /**
   * GOAWAY to every session: each finishes the streams it has (the event
   * streams have just been ended) and then closes, so that the HTTP server
   * can close; clients open new connections elsewhere.
   */
  closeAll(): void {
    this.closing = true;
    for (const session of this.sessions) if (!session.closed && !session.destroyed) session.close();
  }
}
