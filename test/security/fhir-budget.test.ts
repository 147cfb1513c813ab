import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { PROCESS_BYTES } from '../../src/patient-data/fhir-client.js';
import type { Config } from '../../src/config.js';
import { makeApp } from '../helpers.js';
import { PATIENT_ID, validRequest } from './security-helpers.js';

/**
 * Issue 16, medium 5: FHIR answers exhausting memory in total. A loopback FHIR server plays the hostile
 * EHR; the service fetches every key from it (no prefetch). Whatever it does, the call answers 200 with a
 * data-quality card naming what was not read, and the caps hold: requests per call, requests at once,
 * bytes per call, bytes held by the process, nesting depth, and a page size the server ignores.
 */

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

interface Seen {
  requests: number;
  active: number;
  maxActive: number;
  bytes: number;
}

/** A FHIR server on loopback: `search` answers every search, as an object or as JSON text (the Patient read is answered plainly). */
async function fhir(search: (url: URL) => unknown, delayMs = 0): Promise<{ base: string; seen: Seen }> {
  const seen: Seen = { requests: 0, active: 0, maxActive: 0, bytes: 0 };
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.requests++;
    seen.maxActive = Math.max(seen.maxActive, ++seen.active);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer = url.pathname.includes('/Patient/') ? { resourceType: 'Patient', id: PATIENT_ID, birthDate: '1961-04-02' } : search(url);
    const body = typeof answer === 'string' ? answer : JSON.stringify(answer);
    setTimeout(() => {
      seen.active--;
      seen.bytes += Buffer.byteLength(body);
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(body);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/fhir`, seen };
}

async function call(base: string, overrides: Partial<Config>) {
  const { app, ruleset } = await makeApp({ FHIR_SERVER_ALLOWLIST: [base], FHIR_BUDGET_MS: 1_500, FHIR_REQUEST_TIMEOUT_MS: 1_500, REQUEST_TIMEOUT_MS: 3_000, ...overrides });
  const { prefetch: _none, ...body } = validRequest('order-sign', ruleset);
  const res = await request(app).post('/cds-services/inotrope-order-sign').send({ ...body, fhirServer: base });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return JSON.stringify(res.body);
}

const observation = (i: number, pad = 0) => ({
  resourceType: 'Observation',
  id: `o${i}`,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] },
  subject: { reference: `Patient/${PATIENT_ID}` },
  effectiveDateTime: new Date(Date.UTC(2026, 10, 21) - i * 60_000).toISOString(),
  valueQuantity: { value: 4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  ...(pad > 0 && { note: [{ text: 'x'.repeat(pad) }] }),
});
const bundle = (entries: unknown[], next?: string) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: entries.map((resource) => ({ resource })),
  ...(next !== undefined && { link: [{ relation: 'next', url: next }] }),
});

describe('FHIR answers are bounded per call and per process', () => {
  it('sends at most FHIR_MAX_REQUESTS requests, however many next links the server offers', async () => {
    const { base, seen } = await fhir((url) => bundle([], `${url.origin}/fhir/Observation?page=${Math.random()}`));
    const body = await call(base, { FHIR_MAX_REQUESTS: 10, FHIR_MAX_PAGES: 1_000 });
    expect(seen.requests).toBeLessThanOrEqual(10);
    expect(body).toContain('more than 10 requests to the FHIR server in one call');
  });

  it('has at most FHIR_MAX_CONCURRENCY requests in flight', async () => {
    const { base, seen } = await fhir(() => bundle([]), 20);
    await call(base, { FHIR_MAX_CONCURRENCY: 2 });
    expect(seen.requests).toBeGreaterThan(2);
    expect(seen.maxActive).toBeLessThanOrEqual(2);
  });

  it('reads at most FHIR_MAX_CALL_BYTES in one call, all answers together', async () => {
    // each search answers about 600 kB: within the per-answer cap, far above the call's budget in all
    const { base, seen } = await fhir(() => bundle([observation(1, 600_000)]));
    const body = await call(base, { FHIR_MAX_CALL_BYTES: 1_500_000 });
    expect(seen.bytes).toBeGreaterThan(3_000_000);
    expect(body).toContain('exceeded 1500000 bytes in all');
    expect(PROCESS_BYTES.held).toBe(0);
  });

  it('holds at most FHIR_MAX_BYTES_IN_FLIGHT across the process, and gives the bytes back after each call', async () => {
    const { base } = await fhir(() => bundle([observation(1, 300_000)]));
    const body = await call(base, { FHIR_MAX_BYTES_IN_FLIGHT: 1_000_000 });
    expect(body).toContain('reading too much FHIR data at once');
    expect(PROCESS_BYTES.held).toBe(0);
    // the next call starts from an empty gauge
    await call(base, { FHIR_MAX_BYTES_IN_FLIGHT: 1_000_000 });
    expect(PROCESS_BYTES.held).toBe(0);
  });

  it('refuses an answer nested deeper than MAX_JSON_DEPTH, as a data gap', async () => {
    // built as text: stringifying it would overflow the test's own stack
    const deep = `${'{"extension":['.repeat(5_000)}{}${']}'.repeat(5_000)}`;
    const { base } = await fhir(() => JSON.stringify(bundle([observation(1)])).replace('"status":"final"', `"status":"final","extension":[${deep}]`));
    expect(await call(base, {})).toContain('nested deeper than 64 levels');
  });

  it('a server that ignores _count: the newest are used and a card says the page size was ignored', async () => {
    const { base } = await fhir((url) =>
      url.searchParams.has('_count') ? bundle(Array.from({ length: 400 }, (_, i) => observation(i))) : bundle([]),
    );
    expect(await call(base, {})).toMatch(/the EHR ignored the page size \(\d+ asked, 400 sent\)/);
  });
});
