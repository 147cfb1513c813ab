import http from 'node:http';
import https from 'node:https';

/**
 * The one HTTP operation the FHIR client needs: a GET with headers and a time limit, answering the
 * status, the headers and the body as text, over node:http keep-alive agents. Deliberately not
 * `fetch`: a hook call sends a dozen or more searches at once, and fetch's machinery (Response,
 * Headers, WHATWG body streams, an AbortSignal per request) costs several times the CPU of the
 * exchange itself, which the clinician waits for (docs/performance.md). Redirects are never
 * followed here: the caller decides, so the token never leaves its server.
 */

export interface HttpAnswer {
  status: number;
  /** A response header by lower-case name (the first value when repeated). */
  header(name: string): string | undefined;
  body: string;
}

export interface HttpGetOptions {
  headers: Readonly<Record<string, string>>;
  /** The whole exchange (connect, headers, body) must end within this; else it is cut and rejects with a TimeoutError. */
  timeoutMs: number;
  /** The body is read up to this many bytes; a longer one is cut off and rejects with a TooLargeError. */
  maxBytes: number;
  /** Called with each chunk's size before it is kept; false cuts the answer off (a TooLargeError): shared byte budgets. */
  take?: (bytes: number) => boolean;
}

export type HttpGet = (url: URL, options: HttpGetOptions) => Promise<HttpAnswer>;

// No maxSockets: the default (Infinity) lets every search of every concurrent hook call go out at
// once; a connection limit would queue them behind each other and add whole round trips.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

export class HttpTimeoutError extends Error {
  override name = 'TimeoutError';
}

export class HttpTooLargeError extends Error {
  override name = 'TooLargeError';
}

export const httpGet: HttpGet = (url, { headers, timeoutMs, maxBytes, take }) =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!transport) {
      reject(new TypeError(`unsupported protocol ${url.protocol}`));
      return;
    }
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined = undefined;
    const fail = (err: unknown) => {
      clearTimeout(timer);
      reject(timedOut ? new HttpTimeoutError('the request timed out') : err);
    };
    let req: http.ClientRequest;
    try {
      // Only the options node:http needs, not the URL object (nor urlToHttpOptions): node:http turns a
      // URL into options carrying every URL field, which the agent copies again; about 15 % of what an
      // exchange allocated (docs/performance.md).
      const options: http.RequestOptions = {
        protocol: url.protocol,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        path: url.pathname + url.search,
        method: 'GET',
        headers,
        agent: agents[url.protocol as keyof typeof agents],
      };
      if (url.port !== '') options.port = Number(url.port);
      if (url.username !== '' || url.password !== '') options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      req = transport.request(options, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        const tooLarge = () => {
          fail(new HttpTooLargeError(`the answer is larger than ${maxBytes} bytes`));
          req.destroy();
        };
        if (Number(res.headers['content-length']) > maxBytes) {
          tooLarge();
          return;
        }
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxBytes || (take !== undefined && !take(chunk.length))) tooLarge();
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('the response ended early'));
        });
        res.on('end', () => {
          clearTimeout(timer);
          const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, bytes).toString('utf8');
          const responseHeaders = res.headers;
          resolve({
            status: res.statusCode ?? 502,
            header: (name) => {
              const value = responseHeaders[name];
              return Array.isArray(value) ? value[0] : value;
            },
            // Some servers start JSON with a UTF-8 byte-order mark, which JSON.parse refuses (fetch's text() drops it too).
            body: body.charCodeAt(0) === 0xfeff ? body.slice(1) : body,
          });
        });
      });
    } catch (err) {
      // A header value node:http refuses (a control character in a token): nothing was sent.
      reject(err);
      return;
    }
    timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new HttpTimeoutError('the request timed out'));
    }, timeoutMs);
    req.on('error', fail);
    req.end();
  });
