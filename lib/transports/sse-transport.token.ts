/**
 * Injection token of the `SseTransport` in use (`MemoryTransport` unless
 * `SseModuleOptions.transport` names another), e.g. `@Inject(SSE_TRANSPORT)`.
 */
export const SSE_TRANSPORT = Symbol('SseTransport');
