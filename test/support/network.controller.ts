import { Controller, Get, Header } from '@nestjs/common';
import { SseConnection } from '../../lib/index.js';

/**
 * A page that opens `n` EventSources to `path` (query `?n=&path=`) and counts
 * what they see in `window.sse`: how many got `sse.open`, every message's
 * data per source, and each source's readyState on demand.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>streams</title><script>
const query = new URLSearchParams(location.search);
const n = Number(query.get('n') || 1);
const path = query.get('path') || '/events';
window.sse = { opened: 0, messages: [], sources: [] };
for (let i = 0; i < n; i++) {
  const source = new EventSource(path);
  window.sse.messages.push([]);
  source.addEventListener('sse.open', () => window.sse.opened++);
  source.onmessage = (event) => window.sse.messages[i].push(event.data);
  window.sse.sources.push(source);
}
</script>`;

/** The routes the network suites open from Chromium or through proxies. */
@Controller()
export class NetworkController {
  @Get('page')
  @Header('Content-Type', 'text/html; charset=utf-8')
  page() {
    return PAGE;
  }

  @Get('events')
  @SseConnection({ name: 'events', retry: 250 })
  events() {}

  @Get('zipped')
  @SseConnection({ name: 'zipped', compression: true, retry: 250 })
  zipped() {}

  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}
