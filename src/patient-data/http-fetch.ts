import http from 'node:http';
import https from 'node:https';

/**
 * The subset of `fetch` the FHIR client uses (GET, headers, an AbortSignal, no redirect following),
 * over node:http with keep-alive agents. A hook call sends a dozen or more searches at once; global
 * fetch costs about three times the CPU per request and spreads their start over several
 * milliseconds (docs/performance.md), which the EHR's clinician waits for.
 */

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/** Statuses whose Response may not carry a body. */
const NO_BODY = new Set([204, 205, 304]);

export const httpFetch: typeof fetch = (input, init) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!transport) {
      reject(new TypeError(`unsupported protocol ${url.protocol}`));
      return;
    }
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    // Aborted (the hook's time budget): reject with the signal's reason, a TimeoutError, as fetch does.
    const fail = (err: unknown) => reject(init?.signal?.aborted ? (init.signal.reason ?? err) : err);
    const req = transport.request(
      url,
      { method: init?.method ?? 'GET', headers, agent: agents[url.protocol as keyof typeof agents], signal: init?.signal ?? undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('the response ended early'));
        });
        res.on('end', () => {
          const status = res.statusCode ?? 502;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, v);
          }
          resolve(new Response(NO_BODY.has(status) ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
