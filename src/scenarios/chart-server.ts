import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answer } from './build-request.js';

/**
 * A loopback FHIR server holding one chart, so a scenario can also run in fetch mode (no prefetch):
 * the service then reads the same record over HTTP, paging, errors and all, as from an EHR. Reads and
 * searches are answered like the prefetch (build-request's `answer`); a read of a missing resource is 404.
 * `failing` lists reads and searches (relative, as prefetch templates are filled) the server answers
 * with a 500, as an EHR whose server fails for some of the data.
 */
export async function serveChart(
  resources: readonly (Record<string, unknown> & { resourceType: string })[],
  failing: readonly string[] = [],
): Promise<{ url: string; close: () => Promise<void> }> {
  const fails = new Set(failing.map((f) => requestKey(new URL(f, 'http://127.0.0.1/fhir/'))));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const target = `${url.pathname.replace(/^\/fhir\//, '')}${url.search}`;
    let status = 200;
    let body: unknown;
    try {
      body = fails.has(requestKey(url)) ? undefined : answer(target, resources as never);
      if (body === undefined) {
        status = 500;
        body = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] };
      } else if (body === null) {
        status = 404;
        body = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] };
      }
    } catch (err) {
      status = 400;
      body = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported', diagnostics: (err as Error).message }] };
    }
    res.writeHead(status, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/fhir`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A request as the server sees it: path and decoded parameters in order, however the client encoded them. */
function requestKey(url: URL): string {
  return `${url.pathname}?${[...url.searchParams].map(([k, v]) => `${k}=${v}`).sort().join('&')}`;
}
