import type { Page } from 'playwright-core';

// Reading what the page of NetworkController (`/page`) sees, from Chromium.

/** What the page's sources have seen, read in the page. */
export interface PageStreams {
  opened: number;
  /** readyState of each source: 0 connecting, 1 open, 2 closed. */
  states: number[];
  /** Messages per source. */
  messages: string[][];
}

/** Reads the page's counters (an expression string: the project compiles without the DOM lib). */
export function pageStreams(page: Page): Promise<PageStreams> {
  return page.evaluate(`({
    opened: window.sse.opened,
    states: window.sse.sources.map((s) => s.readyState),
    messages: window.sse.messages,
  })`) as Promise<PageStreams>;
}

/** Waits (in the page, bounded by `timeoutMs`) until `expression` over `window.sse` holds; names `what` when it does not. */
export async function pageUntil(page: Page, expression: string, what: string, timeoutMs = 20_000): Promise<void> {
  try {
    await page.waitForFunction(expression, undefined, { timeout: timeoutMs, polling: 20 });
  } catch (error) {
    throw new Error(`the page never got to ${what} (${expression}): ${JSON.stringify(await pageStreams(page).catch(() => 'page gone'))}`, {
      cause: error,
    });
  }
}

/** A response head as Chromium's network layer saw it. */
export interface SeenResponse {
  url: string;
  status: number;
  /** `h2`, `http/1.1`, ... */
  protocol: string;
  /** Chromium's id of the connection it came over. */
  connectionId: number;
  headers: Record<string, string>;
}

/**
 * Records every response head the page receives, from Chromium's DevTools
 * protocol (the protocol it spoke, the headers before decoding). Call before
 * navigating.
 */
export async function recordResponses(page: Page): Promise<SeenResponse[]> {
  const seen: SeenResponse[] = [];
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Network.responseReceived', ({ response }) => {
    const headers = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
    seen.push({ url: response.url, status: response.status, protocol: response.protocol ?? '', connectionId: response.connectionId, headers });
  });
  await cdp.send('Network.enable');
  return seen;
}
