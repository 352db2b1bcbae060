import { MemoryTransport, SseTransportError } from '../../lib/index.js';
import type { SseEncodedEvents, SseTransportTarget } from '../../lib/interfaces/index.js';

/** The in-memory transport, rejecting sends with `SseTransportError` while `failing` (a backend outage, as the hub sees it). */
export class SwitchableTransport extends MemoryTransport {
  failing = false;

  override async publish(target: SseTransportTarget, events: SseEncodedEvents): Promise<number> {
    if (this.failing) throw new SseTransportError('nestjs-sse-hub: test transport is down');
    return super.publish(target, events);
  }
}
