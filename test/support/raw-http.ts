import http from 'node:http';

/** What came back for a request that a test expects NOT to become a stream. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** True when the server answered with an event stream (the connection was then dropped by us). */
  stream: boolean;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Bind the client socket to this local address (e.g. 127.0.0.2, to look like another host). */
  localAddress?: string;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
}

/**
 * One plain node:http request, for what fetch cannot send (a GET with a body,
 * HEAD, arbitrary methods, headers of any size, another local address).
 * Resolves with the whole answer, or at the head when the answer is a stream.
 */
export function rawHttp(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      localAddress: options.localAddress,
      agent: false,
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const stream = String(response.headers['content-type']).startsWith('text/event-stream') && options.method !== 'HEAD';
      if (stream) {
        resolve({ status, headers: response.headers, body: '', stream: true });
        request.destroy();
        return;
      }
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status, headers: response.headers, body, stream: false }));
      response.on('error', reject);
    });
    request.on('error', reject);
    if (options.body !== undefined && options.chunked) {
      request.setHeader('transfer-encoding', 'chunked');
      request.write(options.body);
      request.end();
    } else {
      // Node's client frames a GET body neither by length nor by chunks unless told to.
      if (options.body !== undefined) request.setHeader('content-length', Buffer.byteLength(options.body));
      request.end(options.body);
    }
  });
}
