import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetch } from '../../src/patient-data/http-fetch.js';

/** A real server on loopback: the client is tested against real sockets, not an interceptor. */
let server: http.Server;
let base = '';
const sockets = new Set<unknown>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    sockets.add(req.socket);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/elsewhere' }).end();
    } else if (req.url === '/stall') {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.write('{"resourceType":');
    } else {
      res.writeHead(200, { 'content-type': 'application/fhir+json', 'x-seen-auth': req.headers.authorization ?? '' });
      res.end(JSON.stringify({ resourceType: 'Patient', id: 'p1', accept: req.headers.accept }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('httpFetch', () => {
  it('GETs with the given headers and answers a fetch Response', async () => {
    const res = await httpFetch(new URL(`${base}/Patient/p1`), { headers: { accept: 'application/fhir+json', authorization: 'Bearer t' } });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('x-seen-auth')).toBe('Bearer t');
    expect(JSON.parse(await res.text())).toEqual({ resourceType: 'Patient', id: 'p1', accept: 'application/fhir+json' });
  });

  it('does not follow redirects (the caller decides, so a token never leaves its server)', async () => {
    const res = await httpFetch(`${base}/redirect`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/elsewhere');
  });

  it('keeps connections alive between requests', async () => {
    sockets.clear();
    for (let i = 0; i < 5; i++) await (await httpFetch(`${base}/Patient/p1`)).text();
    expect(sockets.size).toBe(1);
  });

  it('rejects with the signal reason when the time runs out mid-body', async () => {
    const started = performance.now();
    await expect(httpFetch(`${base}/stall`, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('rejects when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(httpFetch(`http://127.0.0.1:${port}/x`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
