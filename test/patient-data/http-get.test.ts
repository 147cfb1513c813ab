import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../../src/patient-data/http-get.js';

/** A real server on loopback: the client is tested against real sockets, not an interceptor. */
let server: http.Server;
let base = '';
const sockets = new Set<unknown>();
/** Requests of /held/* waiting for an answer; all are answered once `release` of them are waiting. */
const held: http.ServerResponse[] = [];
let release = Infinity;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    sockets.add(req.socket);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/elsewhere' }).end();
    } else if (req.url === '/stall') {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.write('{"resourceType":');
    } else if (req.url === '/bom') {
      res.writeHead(200, { 'content-type': 'application/fhir+json; charset=utf-8' });
      res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"resourceType":"Bundle"}')]));
    } else if (req.url === '/big-declared') {
      res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': 5000 });
      res.write('{"resourceType":"Bundle","entry":[');
    } else if (req.url === '/big-streamed') {
      // No length announced: chunks keep coming until the client stops reading.
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      const chunk = `${'{"resourceType":"Observation"},'.repeat(100)}`;
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
    } else if (req.url?.startsWith('/echo/')) {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify({ url: req.url, host: req.headers.host, auth: req.headers.authorization ?? null }));
    } else if (req.url === '/chunked') {
      // A body in several writes, with a two-byte character split between two of them.
      const bytes = Buffer.from(JSON.stringify({ resourceType: 'Patient', name: [{ text: 'Zoë '.repeat(2_000) }] }));
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      const cut = bytes.indexOf(Buffer.from('ë')) + 1;
      res.write(bytes.subarray(0, cut));
      setTimeout(() => {
        res.write(bytes.subarray(cut, cut + 3_000));
        setTimeout(() => res.end(bytes.subarray(cut + 3_000)), 5);
      }, 5);
    } else if (req.url === '/silent') {
      // Never answers at all.
    } else if (req.url?.startsWith('/held/')) {
      held.push(res);
      if (held.length >= release) for (const r of held.splice(0)) r.end('{"resourceType":"Bundle"}');
    } else {
      res.writeHead(200, { 'content-type': 'application/fhir+json', 'x-seen-auth': req.headers.authorization ?? '' });
      res.end(JSON.stringify({ resourceType: 'Patient', id: 'p1', name: [{ text: 'Zoë Ærøskøbing' }], accept: req.headers.accept }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = (path: string, timeoutMs = 2_000, headers: Record<string, string> = {}, maxBytes = 1_000_000) =>
  httpGet(new URL(`${base}${path}`), { headers, timeoutMs, maxBytes });

describe('httpGet', () => {
  it('GETs with the given headers and answers status, headers and the body as text', async () => {
    const res = await get('/Patient/p1', 2_000, { accept: 'application/fhir+json', authorization: 'Bearer t' });
    expect(res.status).toBe(200);
    expect(res.header('x-seen-auth')).toBe('Bearer t');
    expect(res.header('content-type')).toBe('application/fhir+json');
    expect(res.header('x-absent')).toBeUndefined();
    expect(JSON.parse(res.body)).toEqual({ resourceType: 'Patient', id: 'p1', name: [{ text: 'Zoë Ærøskøbing' }], accept: 'application/fhir+json' });
  });

  it('sends the path and query exactly as the URL has them, to the URL\'s host and port', async () => {
    const path = '/echo/Observation?patient=p%201&code=http%3A%2F%2Floinc.org%7C2823-3,http://loinc.org|6298-4&_sort=-date&_count=50';
    const res = await get(path);
    expect(JSON.parse(res.body)).toEqual({ url: path, host: new URL(base).host, auth: null });
  });

  it('sends user information in the URL as basic credentials', async () => {
    const url = new URL(`${base}/echo/x`);
    url.username = 'us%20er';
    url.password = 'p:w';
    const res = await httpGet(url, { headers: {}, timeoutMs: 2_000, maxBytes: 1_000_000 });
    expect(JSON.parse(res.body).auth).toBe(`Basic ${Buffer.from('us er:p:w').toString('base64')}`);
  });

  it('joins a body that arrives in pieces, a character split between two of them included', async () => {
    const res = await get('/chunked');
    expect(JSON.parse(res.body)).toEqual({ resourceType: 'Patient', name: [{ text: 'Zoë '.repeat(2_000) }] });
  });

  it('drops a leading byte-order mark, as some FHIR servers send one', async () => {
    const res = await get('/bom');
    expect(JSON.parse(res.body)).toEqual({ resourceType: 'Bundle' });
  });

  it('reads a body up to maxBytes, counted in bytes not characters', async () => {
    const size = Buffer.byteLength(JSON.stringify({ resourceType: 'Patient', id: 'p1', name: [{ text: 'Zoë Ærøskøbing' }] }));
    await expect(get('/Patient/p1', 2_000, {}, size)).resolves.toMatchObject({ status: 200 });
    await expect(get('/Patient/p1', 2_000, {}, size - 1)).rejects.toMatchObject({ name: 'TooLargeError' });
  });

  it('refuses a body larger than maxBytes, announced or streamed, without reading it all', async () => {
    await expect(get('/big-declared', 2_000, {}, 4_000)).rejects.toMatchObject({ name: 'TooLargeError' });
    await expect(get('/big-streamed', 5_000, {}, 50_000)).rejects.toMatchObject({ name: 'TooLargeError' });
  });

  it('does not follow redirects (the caller decides, so a token never leaves its server)', async () => {
    const res = await get('/redirect');
    expect(res.status).toBe(302);
    expect(res.header('location')).toBe('/elsewhere');
  });

  it('keeps connections alive between requests', async () => {
    sockets.clear();
    for (let i = 0; i < 5; i++) await get('/Patient/p1');
    expect(sockets.size).toBe(1);
  });

  it('sends many requests at once without queueing them behind a connection limit', async () => {
    // The server answers none until all 60 are waiting (a hook call sends ~18 searches, ten calls at
    // once send 180): a client that held some back for a free connection would never see an answer.
    release = 60;
    try {
      const answers = await Promise.all(Array.from({ length: 60 }, (_v, i) => get(`/held/${i}`, 5_000)));
      expect(answers.every((a) => a.status === 200)).toBe(true);
    } finally {
      release = Infinity;
    }
  });

  it('rejects with a TimeoutError when the time runs out mid-body', async () => {
    const started = performance.now();
    await expect(get('/stall', 100)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('rejects with a TimeoutError when no answer starts in time', async () => {
    await expect(get('/silent', 100)).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('rejects when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(httpGet(new URL(`http://127.0.0.1:${port}/x`), { headers: {}, timeoutMs: 2_000, maxBytes: 1_000_000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects a header value node:http refuses, and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    await expect(get('/Patient/p1', 50, { authorization: 'Bearer a\nb' })).rejects.toMatchObject({ code: 'ERR_INVALID_CHAR' });
    expect(timers()).toBe(before);
    // And if one were left, it would try to destroy a request that was never made: that must not throw either.
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('rejects other protocols', async () => {
    await expect(httpGet(new URL('ftp://127.0.0.1/x'), { headers: {}, timeoutMs: 2_000, maxBytes: 1_000_000 })).rejects.toThrow(/unsupported protocol/);
  });
});
