import { MAX_IDENTIFIER_LENGTH } from './sse.constants.js';

/** Every message starts with the package name so that a user can grep for it. */
const PREFIX = 'nestjs-sse-hub:';

const show = (value: unknown): string => {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  }
  return typeof value === 'object' && value !== null ? 'an object' : String(value);
};

/** The message of every error and log line, in one place. */
export const SseMessages = {
  invalidIdentifier: (kind: string, value: unknown) =>
    `${PREFIX} ${kind} ${show(value)} is invalid: expected a string of 1–${MAX_IDENTIFIER_LENGTH} characters without control characters or unpaired surrogates.`,
  emptyNameList: () => `${PREFIX} a target needs at least one name.`,
  missingTarget: () => `${PREFIX} a target must be an object with a name, e.g. { name: 'events' }.`,
  invalidEvent: (value: unknown) =>
    `${PREFIX} an event must be an object with a data property, got ${show(value)}.`,
  invalidEventField: (field: 'event' | 'id', value: unknown) =>
    `${PREFIX} event ${field} ${show(value)} is refused: it must be a string without CR, LF, NUL or unpaired surrogates${
      field === 'event' ? ', not empty and not starting with "sse."' : ''
    }.`,
  eventIdTooLong: (max: number) => `${PREFIX} an event id longer than ${max} characters could never be resumed from.`,
  unserializableData: (reason: string) => `${PREFIX} event data cannot be JSON-encoded: ${reason}.`,
  malformedTextData: () =>
    `${PREFIX} string event data contains an unpaired UTF-16 surrogate, which UTF-8 cannot carry; send well-formed text, or send the value as JSON (not a string) to have it escaped.`,
  eventTooLarge: (size: number, limit: number) =>
    `${PREFIX} an encoded event of ${size} bytes exceeds maxEventBytes (${limit}); nothing was sent.`,
  unknownOption: (option: string, known: readonly string[]) =>
    `${PREFIX} unknown module option ${show(option)}; known options: ${known.join(', ')}.`,
  tooManyConnections: (scope: string, limit: number) =>
    `${PREFIX} ${scope} is full (${limit} open connections); retry later.`,
  notAcceptable: (accept: string) =>
    `${PREFIX} this route answers text/event-stream, which Accept ${show(accept)} does not allow.`,
  bodyOnGet: (method: string) => `${PREFIX} a ${method} request to an SSE route must not carry a body.`,
  invalidMilliseconds: (where: string, value: unknown) =>
    `${PREFIX} ${where} ${show(value)} is invalid: expected a non-negative integer of milliseconds.`,
  invalidScope: (value: unknown) => `${PREFIX} scope ${show(value)} is invalid: expected 'global' or 'local'.`,
  invalidBroadcastLevel: (value: unknown) =>
    `${PREFIX} broadcast level ${show(value)} is invalid: expected 'name', 'group' or 'clientId'.`,
  invalidValue: (where: string, expected: string, value: unknown) =>
    `${PREFIX} ${where} ${show(value)} is invalid: expected ${expected}.`,
  invalidOption: (option: string, expected: string, value: unknown) =>
    `${PREFIX} option ${option} ${show(value)} is invalid: expected ${expected}.`,
  broadcastLevelViolated: (name: string, level: string) =>
    `${PREFIX} sending to name ${show(name)} needs ${level === 'group' ? 'a group or a client id' : 'a client id'} (broadcast level '${level}').`,
  existsNeedsClientId: () => `${PREFIX} exists() needs a target with a clientId or a user.`,
  joinOnLocal: (name: string) =>
    `${PREFIX} a local connection of ${show(name)} cannot join or leave groups: it is not addressable (scope 'local').`,
  tooManyConnectionsOfUser: (limit: number) =>
    `${PREFIX} this user has ${limit} open connections already (maxConnectionsPerUser); close one first.`,
  connectionClosed: (name: string, clientId: string) =>
    `${PREFIX} the connection ${show(clientId)} of ${show(name)} is closed.`,
  unsupportedRouteMethod: (where: string, method: string) =>
    `${PREFIX} @SseConnection() on ${where} needs a GET or POST route, found ${method}.`,
  unknownRouteOption: (where: string, option: string, known: readonly string[]) =>
    `${PREFIX} @SseConnection() on ${where} has an unknown option ${show(option)}; known options: ${known.join(', ')}.`,
  resumableNotLocal: (where: string) =>
    `${PREFIX} @SseConnection() on ${where} is resumable, which needs scope: 'local' (a resumable stream belongs to its request).`,
  followNotGet: (where: string, method: string) =>
    `${PREFIX} @SseConnection() on ${where} follows a stream, which needs a GET route (EventSource), found ${method}.`,
  followWithScope: (where: string) =>
    `${PREFIX} @SseConnection() on ${where} follows a stream: it is a local connection, so it takes no scope 'global', group, user, clientId or resumable.`,
  streamIdTaken: (name: string, streamId: string) =>
    `${PREFIX} a stream ${show(streamId)} of ${show(name)} is running or recorded already.`,
  unknownStream: (name: string) => `${PREFIX} no stream of ${show(name)} with that id is running or recorded.`,
  streamEventId: () =>
    `${PREFIX} a resumable stream's events get their ids from the library (the same for every follower): do not set id.`,
  notARoute: (where: string) => `${PREFIX} @SseConnection() on ${where} needs a route decorator such as @Get().`,
  unsignedClientId: () => `${PREFIX} the client id is not signed, and signing is enabled.`,
  forgedClientId: () => `${PREFIX} the client id's signature is not valid.`,
  missingReference: () =>
    `${PREFIX} this route needs the X-Sse-Name and X-Sse-Client-Id headers of an open SSE connection.`,
  unknownConnection: () => `${PREFIX} no open SSE connection matches X-Sse-Name / X-Sse-Client-Id.`,
  lastEventIdTooLong: (max: number) => `${PREFIX} Last-Event-ID is longer than ${max} characters.`,
  shuttingDown: () => `${PREFIX} the server is shutting down.`,
  handlerFailed: () => `Internal server error`,
  lifecycleHandlerFailed: (where: string) => `${PREFIX} ${where} threw; the connection is not affected.`,
  transportDown: (reason: string) =>
    `${PREFIX} Redis is unreachable (${reason}); sends reject until it is back, local connections stay open.`,
  transportBack: () => `${PREFIX} Redis is reachable again.`,
  transportNotReady: (ms: number) =>
    `${PREFIX} Redis did not answer within ${ms * 5} ms at start-up; sends reject until it does.`,
  transportNotConnected: () => `${PREFIX} the transport is not connected (application not started, or shut down).`,
  transportFailed: (reason: string) => `${PREFIX} Redis did not accept the command: ${reason}.`,
  redisTooOld: (version: string, major: number) =>
    `${PREFIX} Redis ${version} is too old for RedisTransport: it needs Redis ${major} or later (sharded pub/sub, streams).`,
  redisRefusedCredentials: (reason: string) => `${PREFIX} Redis refused RedisTransport's credentials (${reason}): check the password / ACL user in url or redis options.`,
  redisIsCluster: () =>
    `${PREFIX} the Redis at url is a Redis Cluster node: use new RedisTransport({ cluster: [{ host, port }, …] }).`,
  redisIsNotCluster: () => `${PREFIX} RedisTransport was given cluster nodes, but that Redis is not a cluster: use { url }.`,
  notReplicated: (ms: number) =>
    `${PREFIX} no replica confirmed the send within ${ms} ms (durability 'replicated'); it was applied on the master and may be lost by a failover.`,
  partialSend: (names: readonly string[], reason: string) =>
    `${PREFIX} the send went nowhere for name(s) ${names.map((n) => JSON.stringify(n)).join(', ')} (${reason}); it was delivered for the other names.`,
  transportEntryFailed: (reason: string) => `${PREFIX} an entry of the event stream could not be applied: ${reason}.`,
  streamValueRefused: (names: readonly string[], reason: string) =>
    `${PREFIX} a value of the stream to ${names.map(show).join(', ')} was not sent: ${reason}`,
  streamLosingValues: (names: readonly string[], reason: string) =>
    `${PREFIX} values of the stream to ${names.map(show).join(', ')} are being lost: ${reason}`,
  streamDeliversAgain: (names: readonly string[], lost: number) =>
    `${PREFIX} the stream to ${names.map(show).join(', ')} is delivered again (${lost} value(s) lost).`,
  streamErrored: (names: readonly string[], reason: string) =>
    `${PREFIX} the stream to ${names.map(show).join(', ')} ended with an error: ${reason}`,
  observerOptions: () => `${PREFIX} SseHub.to() takes an event type or a toEvent function, not both.`,
  metricsUnavailable: (reason: string) =>
    `${PREFIX} option metrics needs @opentelemetry/api (npm install @opentelemetry/api), or a metrics.meterProvider: ${reason}`,
  healthTimedOut: (ms: number) => `${PREFIX} the transport did not answer within ${ms} ms.`,
  healthTooManyConnections: (connections: number, max: number) =>
    `${PREFIX} ${connections} open connections exceed maxConnections (${max}).`,
  testingNeedsParser: (reason: string) =>
    `${PREFIX} nestjs-sse-hub/testing needs eventsource-parser (npm install -D eventsource-parser): ${reason}`,
  testingBadServer: (value: unknown) =>
    `${PREFIX} SseTestClient.connect needs a listening Nest app, an http.Server or a base URL, got ${show(value)}.`,
  testingNotListening: () => `${PREFIX} SseTestClient.connect needs an app that listens: await app.listen(0) first.`,
  testingRequestFailed: (url: string, reason: string) => `${PREFIX} the request to ${url} failed: ${reason}`,
  testingTimedOut: (what: string, ms: number, received: string) =>
    `${PREFIX} no ${what} within ${ms} ms; received so far: ${received || 'nothing'}.`,
  testingStreamEnded: (what: string, status: number, received: string) =>
    `${PREFIX} the response (status ${status}) ended before ${what}; received: ${received || 'nothing'}.`,
} as const;
