import { BadRequestException, Inject, Injectable, NotFoundException, ServiceUnavailableException, type PipeTransform } from '@nestjs/common';
import { SseTransportError } from '../errors/sse-transport.error.js';
import { SseConnectionRegistry } from '../connection/sse-connection.registry.js';
import { SseRemoteContext } from '../connection/sse-remote-context.js';
import { SsePublisher } from '../delivery/sse-publisher.js';
import { SseConnectionFactory } from './sse-connection.factory.js';
import { decodeHeaderValue, SseIncomingRequest } from './sse-incoming-request.js';
import { connectionOf } from './connection-binding.js';
import { isValidIdentifier } from '../addressing/identifiers.js';
import { SSE_HEADERS } from '../sse.constants.js';
import { SseMessages } from '../sse.messages.js';
import { SSE_TRANSPORT } from '../transports/sse-transport.token.js';
import type { SseTransport } from '../interfaces/sse-transport.interface.js';
import type { SseContext } from '../interfaces/sse-context.interface.js';

/**
 * Resolves `@SseContext()`: the request's own connection on an
 * `@SseConnection()` route, else the open global connection the request names
 * with `X-Sse-Name` + `X-Sse-Client-Id` (+ `X-Sse-Group`) — Pode's
 * `X-Pode-Sse-*` headers. 400 when they are missing or badly signed, 404 when
 * no such connection is open. With a cluster transport, a connection open on
 * another instance is found too (its context sends and closes through the cluster).
 */
@Injectable()
export class SseContextPipe implements PipeTransform<object, Promise<SseContext>> {
  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly factory: SseConnectionFactory,
    private readonly publisher: SsePublisher,
    @Inject(SSE_TRANSPORT) private readonly transport: SseTransport,
  ) {}

  async transform(request: object): Promise<SseContext> {
    const own = connectionOf(request);
    if (own) return own;
    const incoming = new SseIncomingRequest(request);
    const name = incoming.sseHeader(SSE_HEADERS.name);
    const clientId = incoming.sseHeader(SSE_HEADERS.clientId);
    const group = incoming.header(SSE_HEADERS.group);
    if (name === undefined || clientId === undefined) throw new BadRequestException(SseMessages.missingReference());
    if (!isValidIdentifier(name)) throw new BadRequestException(SseMessages.invalidIdentifier('name', name));
    // X-Sse-Group as the stream's head gave it: one group, or several comma-separated.
    const groups = group?.split(',').map(decodeHeaderValue);
    const badGroup = groups?.find((g) => !isValidIdentifier(g));
    if (badGroup !== undefined) throw new BadRequestException(SseMessages.invalidIdentifier('group', badGroup));
    this.factory.verifyPresentedClientId(incoming, clientId);
    const connection = this.registry.find(name, clientId) ?? (await this.findElsewhere(name, clientId));
    if (!connection || (groups && !groups.every((g) => connection.groups.includes(g)))) {
      throw new NotFoundException(SseMessages.unknownConnection());
    }
    return connection;
  }

  private async findElsewhere(name: string, clientId: string): Promise<SseContext | undefined> {
    try {
      const peer = await this.transport.find?.(name, clientId);
      return peer && new SseRemoteContext(name, clientId, peer, this.publisher, this.transport);
    } catch (error) {
      // The cluster cannot be asked right now: say so rather than "not found".
      if (error instanceof SseTransportError) throw new ServiceUnavailableException(error.message);
      throw error;
    }
  }
}
