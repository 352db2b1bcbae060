import { BadRequestException, Injectable, NotFoundException, type PipeTransform } from '@nestjs/common';
import { SseConnectionRegistry } from './sse-connection.registry.js';
import { SseConnectionFactory } from './sse-connection.factory.js';
import { SSE_HEADERS } from './sse.constants.js';
import { isValidIdentifier } from './sse.validation.js';
import { SseMessages } from './sse.messages.js';
import { connectionOf, readHeader } from './sse-request.js';
import type { SseContext } from './interfaces/sse-context.interface.js';

/**
 * Resolves `@SseContext()`: the request's own connection on an
 * `@SseStream()` route, else the open global connection the request names
 * with `X-Sse-Name` + `X-Sse-Client-Id` (+ `X-Sse-Group`) — Pode's
 * `X-Pode-Sse-*` headers. 400 when they are missing or badly signed, 404 when
 * no such connection is open.
 */
@Injectable()
export class SseContextPipe implements PipeTransform<object, SseContext> {
  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly factory: SseConnectionFactory,
  ) {}

  transform(request: object): SseContext {
    const own = connectionOf(request);
    if (own) return own;
    const name = readHeader(request, SSE_HEADERS.name);
    const clientId = readHeader(request, SSE_HEADERS.clientId);
    const group = readHeader(request, SSE_HEADERS.group);
    if (name === undefined || clientId === undefined) throw new BadRequestException(SseMessages.missingReference());
    if (!isValidIdentifier(name)) throw new BadRequestException(SseMessages.invalidIdentifier('name', name, 256));
    if (group !== undefined && !isValidIdentifier(group)) {
      throw new BadRequestException(SseMessages.invalidIdentifier('group', group, 256));
    }
    this.factory.verifyPresentedClientId(request, clientId);
    const connection = this.registry.find(name, clientId);
    if (!connection || (group !== undefined && connection.group !== group)) {
      throw new NotFoundException(SseMessages.unknownConnection());
    }
    return connection;
  }
}
