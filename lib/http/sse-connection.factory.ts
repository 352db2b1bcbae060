import { BadRequestException, Injectable, NotAcceptableException, ServiceUnavailableException } from '@nestjs/common';
import { SseStream, type SseStreamIdentity } from '../connection/sse-client-connection.js';
import { SseConnectionLimits } from '../connection/sse-connection.limits.js';
import { acceptsEventStream, hasBody } from './sse-request-checks.js';
import { SseConnectionRegistry } from '../connection/sse-connection.registry.js';
import { SseClientIds, type SseClientBinding } from '../connection/sse-client-id.service.js';
import { SseSettings } from '../config/sse-settings.js';
import { SseDelivery } from '../delivery/sse-delivery.js';
import { DEFAULT_RETRY_AFTER_SECONDS, MAX_LAST_EVENT_ID_LENGTH, SSE_HEADERS, SSE_QUERY } from '../sse.constants.js';
import { isValidIdentifier } from '../config/sse.validation.js';
import { SseMessages } from '../sse.messages.js';
import { SseError } from '../errors/sse.error.js';
import { attachConnection, rawRequest, rawResponse, readHeader, readQuery, remoteAddress, readSseHeader } from './sse-request.js';
import type { SseConnectionOptions } from '../interfaces/sse-connection-options.interface.js';

/**
 * Decides who a request is (name, group, client id, last event id) and makes a
 * pending connection of it. Everything a client sent is checked here, before
 * any byte of the stream, so a bad value is a plain 4xx (503 when full).
 */
@Injectable()
export class SseConnectionFactory {
  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly clientIds: SseClientIds,
    private readonly settings: SseSettings,
    private readonly limits: SseConnectionLimits,
    private readonly delivery: SseDelivery,
  ) {}

  /** Checks the request (4xx / 503 when it cannot be served) and makes a pending connection of it. */
  create(request: object, response: object, options: SseConnectionOptions): SseStream {
    const identity = this.admit(request, response, options);
    const release = this.limits.reserve(identity.name);
    const connection = new SseStream(identity, rawRequest(request), rawResponse(response), this.registry, this.delivery);
    // However it ends (client gone, closed, refused by the handler), its slot is free at once.
    connection.onClose(release);
    attachConnection(request, response, connection);
    return connection;
  }

  /**
   * Answers a HEAD as its GET would be answered up to the stream: the same
   * checks and statuses, then the head alone. No stream, no registration, no
   * lifecycle event, and the handler does not run.
   */
  answerHead(request: object, response: object, options: SseConnectionOptions): void {
    this.admit(request, response, options);
    const raw = rawResponse(response);
    raw.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform' });
    raw.end();
  }

  /** Everything a client sent is checked here, in the order a client can best act on. */
  private admit(request: object, response: object, options: SseConnectionOptions): SseStreamIdentity {
    if (this.registry.isShuttingDown) throw new ServiceUnavailableException(SseMessages.shuttingDown());
    if (!acceptsEventStream(request)) {
      throw new NotAcceptableException(SseMessages.notAcceptable(readHeader(request, 'accept') ?? ''));
    }
    const method = rawRequest(request).method ?? 'GET';
    if ((method === 'GET' || method === 'HEAD') && hasBody(request)) {
      throw new BadRequestException(SseMessages.bodyOnGet(method));
    }
    const binding = bindingOf(request);
    const identity: SseStreamIdentity = {
      name: options.name,
      group: this.groupOf(request, options),
      clientId: this.clientIdOf(request, options, binding),
      scope: options.scope ?? this.settings.defaultScope,
      lastEventId: lastEventIdOf(request),
      retry: options.retry ?? this.settings.retry,
      allowAllOrigins: options.allowAllOrigins ?? false,
    };
    const refusal = this.limits.refusal(identity.name);
    if (refusal !== undefined) {
      // Exception filters keep headers already set on the raw response (Express and Fastify).
      rawResponse(response).setHeader('Retry-After', String(retryAfterSeconds(identity.retry)));
      throw new ServiceUnavailableException(refusal);
    }
    return identity;
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
    const offered = readSseHeader(request, SSE_HEADERS.clientId) ?? readQuery(request, SSE_QUERY.clientId);
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

/** Whole seconds for `Retry-After`: the route's `retry` rounded up, at least 1. */
function retryAfterSeconds(retryMs: number | undefined): number {
  return retryMs === undefined ? DEFAULT_RETRY_AFTER_SECONDS : Math.max(1, Math.ceil(retryMs / 1000));
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
