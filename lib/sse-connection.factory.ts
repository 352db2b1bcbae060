import { BadRequestException, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { SseStream } from './sse-stream.js';
import { SseConnectionRegistry } from './sse-connection.registry.js';
import { SseClientIds, type SseClientBinding } from './sse-client-id.service.js';
import { SseSettings } from './sse-settings.js';
import { SseDelivery } from './sse-delivery.js';
import { MAX_LAST_EVENT_ID_LENGTH, SSE_HEADERS, SSE_QUERY } from './sse.constants.js';
import { isValidIdentifier } from './sse.validation.js';
import { SseMessages } from './sse.messages.js';
import { SseError } from './errors/sse.error.js';
import { attachConnection, rawRequest, rawResponse, readHeader, readQuery, remoteAddress } from './sse-request.js';
import type { SseConnectionOptions } from './interfaces/sse-connection-options.interface.js';

/**
 * Decides who a request is (name, group, client id, last event id) and makes a
 * pending connection of it. Everything a client sent is checked here, before
 * any byte of the stream, so a bad value is a plain 400.
 */
@Injectable()
export class SseConnectionFactory {
  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly clientIds: SseClientIds,
    private readonly settings: SseSettings,
    private readonly delivery: SseDelivery,
  ) {}

  create(request: object, response: object, options: SseConnectionOptions): SseStream {
    if (this.registry.isShuttingDown) throw new ServiceUnavailableException(SseMessages.shuttingDown());
    const binding = bindingOf(request);
    const connection = new SseStream(
      {
        name: options.name,
        group: this.groupOf(request, options),
        clientId: this.clientIdOf(request, options, binding),
        scope: options.scope ?? this.settings.defaultScope,
        lastEventId: lastEventIdOf(request),
        retry: options.retry ?? this.settings.retry,
        allowAllOrigins: options.allowAllOrigins ?? false,
      },
      rawRequest(request),
      rawResponse(response),
      this.registry,
      this.delivery,
    );
    attachConnection(request, response, connection);
    return connection;
  }

  /** Verifies an id a client presents (offered on connect, or naming its connection). */
  verifyPresentedClientId(request: object, clientId: string): void {
    if (!isValidIdentifier(clientId)) {
      throw new BadRequestException(SseMessages.invalidIdentifier('client id', clientId, 256));
    }
    if (!this.settings.signing) return;
    // Pode accepts any id that merely looks signed; we check the signature.
    if (!this.clientIds.isSigned(clientId)) throw new BadRequestException(SseMessages.unsignedClientId());
    if (!this.clientIds.isValid(clientId, bindingOf(request))) {
      throw new BadRequestException(SseMessages.forgedClientId());
    }
  }

  private groupOf(request: object, options: SseConnectionOptions): string | undefined {
    const group = typeof options.group === 'function' ? options.group(request) : options.group;
    if (group !== undefined && !isValidIdentifier(group)) {
      throw new BadRequestException(SseMessages.invalidIdentifier('group', group, 256));
    }
    return group;
  }

  private clientIdOf(request: object, options: SseConnectionOptions, binding: SseClientBinding): string {
    const derived = options.clientId?.(request);
    if (derived !== undefined) return this.issue(derived, binding);
    const offered = readHeader(request, SSE_HEADERS.clientId) ?? readQuery(request, SSE_QUERY.clientId);
    if (offered !== undefined) {
      this.verifyPresentedClientId(request, offered);
      return offered;
    }
    return this.clientIds.issue(undefined, binding);
  }

  private issue(id: string, binding: SseClientBinding): string {
    try {
      return this.clientIds.issue(id, binding);
    } catch (error) {
      // The route derived it from the request, so a bad one is the client's fault.
      if (error instanceof SseError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}

function bindingOf(request: object): SseClientBinding {
  return { userAgent: readHeader(request, 'user-agent'), remoteAddress: remoteAddress(request) };
}

function lastEventIdOf(request: object): string | undefined {
  const id = readHeader(request, SSE_HEADERS.lastEventId) ?? readQuery(request, SSE_QUERY.lastEventId);
  if (id !== undefined && id.length > MAX_LAST_EVENT_ID_LENGTH) {
    throw new BadRequestException(SseMessages.lastEventIdTooLong(MAX_LAST_EVENT_ID_LENGTH));
  }
  return id;
}
