import type {
  SseEncodedEvents,
  SseTransport,
  SseTransportConnection,
  SseTransportHost,
  SseTransportTarget,
} from '../interfaces/sse-transport.interface.js';

/**
 * The default transport: this instance is the whole cluster. Every call goes
 * straight to the local connections, so the in-memory path costs no more than
 * writing to the sockets (no copy, no extra encoding, nothing per recipient).
 */
export class MemoryTransport implements SseTransport {
  private host: SseTransportHost | undefined;

  async connect(host: SseTransportHost): Promise<void> {
    this.host = host;
  }

  async disconnect(): Promise<void> {
    this.host = undefined;
  }

  async publish(target: SseTransportTarget, events: SseEncodedEvents): Promise<number> {
    const host = this.host;
    return host ? host.deliver(target, host.prepare(events)) : 0;
  }

  async close(target: SseTransportTarget): Promise<number> {
    return this.host ? this.host.close(target) : 0;
  }

  // Presence is the local registry itself.
  register(_connection: SseTransportConnection): void {}
  unregister(_connection: SseTransportConnection): void {}

  async names(): Promise<string[]> {
    return this.host?.names() ?? [];
  }

  async groups(name: string): Promise<string[]> {
    return this.host?.groups(name) ?? [];
  }

  async clientIds(target: SseTransportTarget): Promise<string[]> {
    return this.host?.clientIds(target) ?? [];
  }

  async count(target?: SseTransportTarget): Promise<number> {
    return this.host?.count(target) ?? 0;
  }
}
