import {
  BadRequestException,
  HttpException,
  HttpStatus,
  Injectable,
  NotAcceptableException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { SseClientConnection, type SseConnectionIdentity, type SseConnectionServices, type SseConnectionSettings } from '../connection/sse-client-connection.js';
import { SseConnectionLimits } from '../connection/sse-connection.limits.js';
import { SseConnectionRegistry } from '../connection/sse-connection.registry.js';
import { SseBufferBudget } from '../connection/sse-buffer-budget.js';
import { SseClientIds, type SseClientBinding } from '../connection/sse-client-id.service.js';
import { SseStopTokens } from '../connection/sse-stop-tokens.js';
import { closeFrame, type SseCloseReason } from '../connection/sse-come-back.js';
import { SseSettings } from '../config/sse-settings.js';
import { SseCounters } from '../delivery/sse-counters.js';
import { SseLocalDelivery } from '../delivery/sse-local-delivery.js';
import { SsePublisher } from '../delivery/sse-publisher.js';
import { isValidIdentifier } from '../addressing/identifiers.js';
import { identifierList } from '../addressing/sse-target.js';
import { DEFAULT_RETRY_AFTER_SECONDS, MAX_LAST_EVENT_ID_LENGTH, SSE_HEADERS, SSE_QUERY } from '../sse.constants.js';
import { SseMessages } from '../sse.messages.js';
import { SseError } from '../errors/sse.error.js';
import { acceptsEventStream, hasBody } from './sse-request-checks.js';
import { streamIdOf } from '../streams/sse-stream-id.js';
import { SseStreams } from '../streams/sse-streams.service.js';
import { bindConnection } from './connection-binding.js';
import { createExchange } from './create-exchange.js';
import { EVENT_STREAM_HEAD, type SseExchange } from './sse-exchange.js';
import type { SseIncomingRequest } from './sse-incoming-request.js';
import type { SseConnectionOptions } from '../interfaces/sse-connection-options.interface.js';

/** What admission decided for a request that will not become a connection: come back later, for this reason. */
interface SseComeBack {
  readonly comeBack: SseCloseReason;
}

/**
 * Where a request becomes a connection: decides who it is (name, group, client
 * id, last event id) and makes a pending connection of it. Everything a client
 * sent is checked here, before any byte of the stream, so a bad value is a
 * plain 4xx; a client stopped for good gets 204; a full instance answers per
 * `overload` (a short stream that says "come back later", or 503).
 */
@Injectable()
export class SseConnectionFactory {
  private readonly services: SseConnectionServices;

  constructor(
    private readonly registry: SseConnectionRegistry,
    private readonly clientIds: SseClientIds,
    private readonly settings: SseSettings,
    private readonly limits: SseConnectionLimits,
    private readonly stops: SseStopTokens,
    delivery: SseLocalDelivery,
    counters: SseCounters,
    publisher: SsePublisher,
    budget: SseBufferBudget,
    private readonly streams: SseStreams,
  ) {
    this.services = { hooks: delivery, counters, publisher, budget };
  }

  /**
   * Checks the request (4xx / 503 when it cannot be served) and makes a pending
   * connection of it. A HEAD is answered as its GET would be up to the stream
   * (the same checks and statuses, then the head alone: no stream, no
   * registration, the handler does not run); it gives no connection.
   */
  async create(request: object, response: object, options: SseConnectionOptions): Promise<SseClientConnection | undefined> {
    const exchange = createExchange(request, response, {
      directWrites: this.settings.directWrites,
      compression: options.compression ?? this.settings.compression,
    });
    // On every answer of such a route, refusals included, so that a cross-origin page can read them.
    if (options.allowAllOrigins) exchange.setHeader('Access-Control-Allow-Origin', '*');
    // First of all: a client stopped for good gets 204, which ends a browser's EventSource.
    if (await this.isStopped(exchange.incoming, options)) {
      exchange.answerHead({}, 204);
      return undefined;
    }
    const identity = await this.admit(exchange, options);
    if (exchange.incoming.method === 'HEAD') {
      if (options.follow && 'streamId' in identity && identity.streamId !== undefined) await this.streams.assertFollowable(identity.name, identity.streamId);
      exchange.answerHead(EVENT_STREAM_HEAD);
      return undefined;
    }
    if ('comeBack' in identity) {
      // The whole answer: a spread retry and sse.close; never a connection, never counted.
      const frame = closeFrame(identity.comeBack, this.settings.retryOf(options.retry), this.settings.reconnectSpread);
      exchange.answerAndClose(EVENT_STREAM_HEAD, frame);
      return undefined;
    }
    const release = this.limits.reserve(identity.name, identity.user);
    const connection = new SseClientConnection(identity, exchange, this.connectionSettings(options), this.services);
    // However it ends (client gone, closed, refused by the handler), its slot is free at once.
    connection.onClose(release);
    bindConnection(request, response, connection);
    return connection;
  }

  /** Verifies an id a client presents (offered on connect, or naming its connection); 400 when unusable. */
  verifyPresentedClientId(incoming: SseIncomingRequest, clientId: string): void {
    if (!isValidIdentifier(clientId)) throw new BadRequestException(SseMessages.invalidIdentifier('client id', clientId));
    if (!this.settings.signing) return;
    // Pode accepts any id that merely looks signed; we check the signature.
    if (!this.clientIds.isSigned(clientId)) throw new BadRequestException(SseMessages.unsignedClientId());
    if (!this.clientIds.isValid(clientId, bindingOf(incoming))) throw new BadRequestException(SseMessages.forgedClientId());
  }

  /**
   * True when the request offers a valid stop token as its last event id, or
   * a client id stopped for good (unless the route derives client ids: such an
   * id may be a user's, and one stop must not lock a user out everywhere).
   */
  private async isStopped(incoming: SseIncomingRequest, options: SseConnectionOptions): Promise<boolean> {
    const lastEventId = offeredLastEventId(incoming);
    if (lastEventId !== undefined && SseStopTokens.looksLikeToken(lastEventId) && (await this.stops.isValidToken(options.name, lastEventId))) {
      return true;
    }
    if (options.clientId !== undefined) return false;
    const offered = incoming.sseHeader(SSE_HEADERS.clientId) ?? incoming.query(SSE_QUERY.clientId);
    return offered !== undefined && isValidIdentifier(offered) && this.stops.isStoppedClient(options.name, offered);
  }

  /** Everything a client sent is checked here, in the order a client can best act on. */
  private async admit(exchange: SseExchange, options: SseConnectionOptions): Promise<SseConnectionIdentity | SseComeBack> {
    const incoming = exchange.incoming;
    if (this.registry.isShuttingDown) {
      // A reconnect that reaches an instance on its way down: come back later (elsewhere).
      if (this.settings.overload === 'retry') return { comeBack: 'shutdown' };
      throw new ServiceUnavailableException(SseMessages.shuttingDown());
    }
    const accept = incoming.header('accept');
    if (!acceptsEventStream(accept)) throw new NotAcceptableException(SseMessages.notAcceptable(accept ?? ''));
    const { method } = incoming;
    if ((method === 'GET' || method === 'HEAD') && hasBody(incoming)) throw new BadRequestException(SseMessages.bodyOnGet(method));
    const identity: SseConnectionIdentity = {
      name: options.name,
      user: userOf(incoming, options),
      clientId: this.clientIdOf(incoming, options),
      // A follower is local whatever the default: it is fed by its stream, never addressed.
      scope: options.follow ? 'local' : (options.scope ?? this.settings.defaultScope),
      lastEventId: lastEventIdOf(incoming),
      groups: await groupsOf(incoming, options),
      streamId: streamIdOf(incoming.platformRequest, options),
    };
    const refusal = this.limits.refusal(identity.name, identity.user);
    if (refusal?.reason === 'user') {
      // A limit that does not clear by itself: 429, which an EventSource does not poll.
      throw new HttpException(refusal.message, HttpStatus.TOO_MANY_REQUESTS);
    }
    if (refusal !== undefined) {
      if (this.settings.overload === 'retry') return { comeBack: 'overloaded' };
      // Exception filters keep headers already set on the raw response (Express and Fastify).
      exchange.setHeader('Retry-After', String(retryAfterSeconds(options.retry ?? this.settings.retry)));
      throw new ServiceUnavailableException(refusal.message);
    }
    return identity;
  }

  private connectionSettings(options: SseConnectionOptions): SseConnectionSettings {
    return {
      retry: this.settings.retryOf(options.retry),
      reconnectSpread: this.settings.reconnectSpread,
      allowAllOrigins: options.allowAllOrigins ?? false,
      maxBufferedBytes: this.settings.maxBufferedBytes,
      maxEventBytes: this.settings.maxEventBytes,
    };
  }

  private clientIdOf(incoming: SseIncomingRequest, options: SseConnectionOptions): string {
    const derived = options.clientId?.(incoming.platformRequest);
    if (derived !== undefined) return this.issue(derived, bindingOf(incoming));
    const offered = incoming.sseHeader(SSE_HEADERS.clientId) ?? incoming.query(SSE_QUERY.clientId);
    if (offered !== undefined) {
      this.verifyPresentedClientId(incoming, offered);
      return offered;
    }
    return this.clientIds.issue(undefined, bindingOf(incoming));
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

/** The route's groups for this request, checked (400 for a bad derived one), in order, without repeats. */
async function groupsOf(incoming: SseIncomingRequest, options: SseConnectionOptions): Promise<string[]> {
  const given = typeof options.group === 'function' ? await options.group(incoming.platformRequest) : options.group;
  try {
    return identifierList('group', given) ?? [];
  } catch (error) {
    throw new BadRequestException((error as Error).message);
  }
}

/** The route's user for this request, checked (400 for a bad one). */
function userOf(incoming: SseIncomingRequest, options: SseConnectionOptions): string | undefined {
  const user = options.user?.(incoming.platformRequest);
  if (user !== undefined && !isValidIdentifier(user)) throw new BadRequestException(SseMessages.invalidIdentifier('user', user));
  return user;
}

/** Whole seconds for `Retry-After`: the route's `retry` rounded up, at least 1. */
function retryAfterSeconds(retryMs: number | undefined): number {
  return retryMs === undefined ? DEFAULT_RETRY_AFTER_SECONDS : Math.max(1, Math.ceil(retryMs / 1000));
}

function bindingOf(incoming: SseIncomingRequest): SseClientBinding {
  return { userAgent: incoming.header('user-agent'), remoteAddress: incoming.remoteAddress };
}

/** The last event id a client offers: the header, else the query; an empty one is no id (and hides nothing). */
function offeredLastEventId(incoming: SseIncomingRequest): string | undefined {
  const header = incoming.header(SSE_HEADERS.lastEventId);
  if (header !== undefined && header !== '') return header;
  const query = incoming.query(SSE_QUERY.lastEventId);
  return query === '' ? undefined : query;
}

function lastEventIdOf(incoming: SseIncomingRequest): string | undefined {
  const id = offeredLastEventId(incoming);
  if (id !== undefined && id.length > MAX_LAST_EVENT_ID_LENGTH) {
    throw new BadRequestException(SseMessages.lastEventIdTooLong(MAX_LAST_EVENT_ID_LENGTH));
  }
  return id;
}
