import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import nock from 'nock';
import fc from 'fast-check';
import { hookResponseSchema } from '../../src/cds/response-schema.js';
import { makeApp } from '../helpers.js';
import { BASE, EHR_FHIR, ISS, SERVICE_PATH, makeAuthApp, newKey, signToken, validRequest, type TestKey } from './security-helpers.js';

const EVIL = 'https://evil.example.com';
const ACCESS_TOKEN = 'ehr-access-token-5b1d0c7e';

let key: TestKey;
beforeAll(async () => {
  key = await newKey('ES256', 'k-256');
});

/** Every outbound HTTP request the app makes, matched or not: proves what was (not) sent where. */
let outbound: string[];
const recordOutbound = (req: { method?: string; href?: string; path?: string; host?: string }) => {
  const url = req.href ?? `${req.host ?? ''}${req.path ?? ''}`;
  if (!url.includes('127.0.0.1')) outbound.push(`${req.method ?? ''} ${url}`); // the test's own calls to the app
};
beforeEach(() => {
  outbound = [];
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  nock.emitter.on('no match', recordOutbound);
});
afterEach(() => {
  nock.emitter.removeListener('no match', recordOutbound);
  nock.cleanAll();
  nock.enableNetConnect();
});

const client = (overrides: Record<string, unknown> = {}) => ({ iss: ISS, jwks: { keys: [key.publicJwk] }, fhirServers: [EHR_FHIR], ...overrides });
const post = async (app: Parameters<typeof request>[0], body: unknown, token?: string) => {
  const req = request(app).post(SERVICE_PATH);
  if (token !== undefined) req.set('Authorization', `Bearer ${token}`);
  return req.send(body as object);
};

/** A FHIR server that answers every read and search, recording each request it receives. */
function fakeFhir(origin: string, hits: { url: string; auth: string | undefined }[]) {
  nock(origin)
    .persist()
    .get(/.*/)
    .reply(function reply(uri) {
      hits.push({ url: uri, auth: this.req.headers.authorization as string | undefined });
      return uri.includes('/Patient/') ? [200, { resourceType: 'Patient', id: 'p' }] : [200, { resourceType: 'Bundle', type: 'searchset', total: 0 }];
    });
}

describe('per-client FHIR server allowlist', () => {
  it('refuses a fhirServer outside the client list with 403, and sends it nothing', async () => {
    const { app, ruleset } = await makeAuthApp([client()]);
    const evilHits: { url: string; auth: string | undefined }[] = [];
    fakeFhir(EVIL, evilHits);
    const fhirAuthorization = { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' };
    const { prefetch: _prefetch, ...withoutPrefetch } = validRequest('order-sign', ruleset);
    for (const body of [
      { ...withoutPrefetch, fhirServer: `${EVIL}/fhir`, fhirAuthorization },
      { ...validRequest('order-sign', ruleset), fhirServer: `${EVIL}/fhir`, fhirAuthorization },
      // a look-alike of the client's own server
      { ...withoutPrefetch, fhirServer: 'https://ehr.example.org.evil.example.com/fhir', fhirAuthorization },
      { ...withoutPrefetch, fhirServer: 'https://ehr.example.org/fhir2', fhirAuthorization },
    ]) {
      const res = await post(app, body, await signToken(key));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'forbidden', pointer: '/fhirServer' });
    }
    expect(evilHits).toEqual([]);
    expect(outbound).toEqual([]);
  });

  it('sends the access token to the client own FHIR server only', async () => {
    const { app, ruleset } = await makeAuthApp([client()]);
    const hits: { url: string; auth: string | undefined }[] = [];
    fakeFhir('https://ehr.example.org', hits);
    const { prefetch: _prefetch, ...withoutPrefetch } = validRequest('order-sign', ruleset);
    const res = await post(
      app,
      { ...withoutPrefetch, fhirServer: `${EHR_FHIR}/`, fhirAuthorization: { access_token: ACCESS_TOKEN, token_type: 'Bearer' } },
      await signToken(key),
    );
    expect(res.status).toBe(200);
    hookResponseSchema.parse(res.body);
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) {
      expect(hit.url.startsWith('/fhir/')).toBe(true);
      expect(hit.auth).toBe(`Bearer ${ACCESS_TOKEN}`);
    }
    expect(outbound).toEqual([]);
  });

  it('with CDS_AUTH=off only FHIR_SERVER_ALLOWLIST applies: an unlisted server gets 412 and no byte', async () => {
    const { app, ruleset } = await makeApp({ FHIR_SERVER_ALLOWLIST: [EHR_FHIR] });
    const evilHits: { url: string; auth: string | undefined }[] = [];
    fakeFhir(EVIL, evilHits);
    const { prefetch: _prefetch, ...withoutPrefetch } = validRequest('order-sign', ruleset);
    const res = await post(app, { ...withoutPrefetch, fhirServer: `${EVIL}/fhir`, fhirAuthorization: { access_token: ACCESS_TOKEN, token_type: 'Bearer' } });
    expect(res.status).toBe(412);
    expect(evilHits).toEqual([]);
    expect(outbound).toEqual([]);
  });
});

describe('request limits', () => {
  const nest = (levels: number): unknown => {
    let v: unknown = 'leaf';
    for (let i = 0; i < levels; i++) v = { a: v };
    return v;
  };

  it('JSON nesting: accepted up to MAX_JSON_DEPTH, 413 beyond, 400 for a nesting JSON.parse refuses', async () => {
    const { app, ruleset } = await makeApp({ MAX_JSON_DEPTH: 64 });
    // the body is level 1; extension's value and the objects inside it are levels 2..64
    expect((await post(app, validRequest('order-sign', ruleset, { extension: nest(63) }))).status).toBe(200);
    const deep = await post(app, validRequest('order-sign', ruleset, { extension: nest(64) }));
    expect(deep.status).toBe(413);
    expect(deep.body).toMatchObject({ error: 'payload-too-large', message: expect.stringMatching(/nested deeper than 64/) });
    const n = 100_000;
    const hostile = await request(app).post(SERVICE_PATH).set('content-type', 'application/json').send(`${'['.repeat(n)}${']'.repeat(n)}`);
    expect([400, 413]).toContain(hostile.status);
  });

  it('prefetch keys, Bundle entries and array items: 413 beyond the configured counts', async () => {
    const { app, ruleset } = await makeApp({ MAX_PREFETCH_KEYS: 30, MAX_BUNDLE_ENTRIES: 20, MAX_ARRAY_ITEMS: 1000 });
    const base = validRequest('order-sign', ruleset);
    const prefetch = base.prefetch as Record<string, unknown>;
    const manyKeys = { ...prefetch, ...Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`extra-${i}`, null])) };
    expect(await post(app, { ...base, prefetch: manyKeys })).toMatchObject({ status: 413, body: { error: 'payload-too-large', pointer: '/prefetch' } });

    const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ resource: { resourceType: 'Observation', id: `o${i}`, status: 'final', code: {} } }));
    const bigSearch = { ...prefetch, 'obs-potassium': { resourceType: 'Bundle', type: 'searchset', entry: entries(21) } };
    expect(await post(app, { ...base, prefetch: bigSearch })).toMatchObject({ status: 413, body: { pointer: '/prefetch/obs-potassium/entry' } });

    const ctx = base.context as { draftOrders: { entry: unknown[] } };
    const drafts = { ...ctx.draftOrders, entry: Array.from({ length: 21 }, () => ctx.draftOrders.entry[0]) };
    expect(await post(app, { ...base, context: { ...ctx, draftOrders: drafts } })).toMatchObject({
      status: 413,
      body: { pointer: '/context/draftOrders/entry' },
    });
    const selections = Array.from({ length: 1001 }, () => 'MedicationRequest/draft-1');
    const select = validRequest('order-select', ruleset);
    const longArray = await request(app).post('/cds-services/inotrope-order-select').send({ ...select, context: { ...(select.context as object), selections } });
    expect(longArray).toMatchObject({ status: 413, body: { error: 'payload-too-large', pointer: '/context/selections' } });
    // at the limit is fine
    const atLimit = { ...prefetch, 'obs-potassium': { resourceType: 'Bundle', type: 'searchset', entry: entries(20) } };
    expect((await post(app, { ...base, prefetch: atLimit })).status).not.toBe(413);
  });

  it('nesting and array limits: refused exactly when some node is too deep or some array too long (property)', async () => {
    const limits = { MAX_JSON_DEPTH: 14, MAX_ARRAY_ITEMS: 10 };
    const { app, ruleset } = await makeApp(limits);
    const leaf = fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 3 }));
    const { node } = fc.letrec((tie) => ({
      node: fc.oneof(
        { maxDepth: 4, depthIdentifier: 'shape' },
        leaf,
        fc.array(tie('node'), { maxLength: 4, depthIdentifier: 'shape' }),
        fc.array(leaf, { minLength: 9, maxLength: 12 }),
        fc.dictionary(fc.string({ maxLength: 4 }), tie('node'), { maxKeys: 4, depthIdentifier: 'shape' }),
      ),
    }));
    // Arrays around MAX_ARRAY_ITEMS, wrapped in 6 to 12 more levels: shapes land on both sides of both limits.
    const shape = fc.tuple(node, fc.array(fc.boolean(), { minLength: 6, maxLength: 12 })).map(([n, wraps]) => wraps.reduce<unknown>((v, asArray) => (asArray ? [v] : { w: v }), n));
    const exceeds = (value: unknown, depth: number): boolean => {
      if (typeof value !== 'object' || value === null) return false;
      if (depth > limits.MAX_JSON_DEPTH || (Array.isArray(value) && value.length > limits.MAX_ARRAY_ITEMS)) return true;
      return Object.values(value).some((child) => exceeds(child, depth + 1));
    };
    await fc.assert(
      fc.asyncProperty(shape, async (value) => {
        const body = validRequest('order-sign', ruleset, { extension: { value } });
        const res = await post(app, body);
        if (exceeds(body, 1)) {
          expect(res.status).toBe(413);
          expect(res.body.message).toMatch(/nested deeper than 14 levels|more than 10 items/);
        } else {
          expect(res.status).toBe(200);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('body size: 413 beyond BODY_LIMIT_BYTES; without a token the body is never read (401)', async () => {
    const { app, ruleset } = await makeApp({ BODY_LIMIT_BYTES: 4096 });
    const big = validRequest('order-sign', ruleset, { extension: { pad: 'x'.repeat(5000) } });
    expect(await post(app, big)).toMatchObject({ status: 413, body: { error: 'payload-too-large' } });
    const auth = await makeAuthApp([client()], { BODY_LIMIT_BYTES: 4096 });
    expect(await post(auth.app, big)).toMatchObject({ status: 401, body: { reason: 'missing-token' } });
  });

  it('rate limit: 429 with Retry-After per client; other clients are not affected', async () => {
    const otherKey = await newKey('RS256', 'rsa-1');
    const other = { iss: 'https://other-ehr.example.org', jwks: { keys: [otherKey.publicJwk] }, fhirServers: [] };
    const { app } = await makeAuthApp([client(), other], { RATE_LIMIT_PER_MINUTE: 3 });
    const discovery = async (k: TestKey, iss = ISS) =>
      request(app).get('/cds-services').set('Authorization', `Bearer ${await signToken(k, { iss, aud: `${BASE}/cds-services` })}`);
    const first = await discovery(key);
    expect(first.status).toBe(200);
    expect(first.headers).toMatchObject({ ratelimit: expect.stringMatching(/^limit=3, remaining=2, reset=\d+$/), 'ratelimit-policy': '3;w=60' });
    for (let i = 0; i < 2; i++) expect((await discovery(key)).status).toBe(200);
    const limited = await discovery(key);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'too-many-requests', message: expect.any(String) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await discovery(otherKey, other.iss)).status).toBe(200);
  });

  it('rate limit without authentication is per IP address', async () => {
    const { app } = await makeApp({ RATE_LIMIT_PER_MINUTE: 2 });
    expect((await request(app).get('/cds-services')).status).toBe(200);
    expect((await request(app).get('/cds-services')).status).toBe(200);
    expect((await request(app).get('/cds-services')).status).toBe(429);
  });
});
