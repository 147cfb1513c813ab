import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import nock from 'nock';
import { compactVerify, createLocalJWKSet, exportJWK, SignJWT, type JSONWebKeySet } from 'jose';
import { ConfigError, loadConfig, testConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { loadRuleset } from '../../src/rules/load.js';
import { parseClients } from '../../src/http/auth/clients.js';
import { createTokenVerifier } from '../../src/http/auth/verify-token.js';
import { HOOK_MODULES } from '../../src/cds/hooks/registry.js';
import { logCapture, staticSource } from '../helpers.js';
import {
  BASE,
  EHR_FHIR,
  ISS,
  NOW_S,
  SERVICE_AUD,
  SERVICE_PATH,
  makeAuthApp,
  newKey,
  signToken,
  unsignedToken,
  validRequest,
  writeClientsFile,
  type TestKey,
} from './security-helpers.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../fixtures/cds-hooks-examples');
const readExample = (p: string) => readFileSync(`${EXAMPLES}/${p}`, 'utf8');

let key: TestKey;
let otherKey: TestKey;
beforeAll(async () => {
  key = await newKey('ES384', 'ehr-key-1');
  otherKey = await newKey('ES384', 'ehr-key-1'); // same kid, different key: a forgery
});

afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const inlineClient = () => ({ iss: ISS, jwks: { keys: [key.publicJwk] }, fhirServers: [EHR_FHIR] });

async function call(app: Parameters<typeof request>[0], token: string | undefined, path = SERVICE_PATH, body?: unknown) {
  const req = path === '/cds-services' ? request(app).get(path) : request(app).post(path).send(body as object);
  if (token !== undefined) req.set('Authorization', `Bearer ${token}`);
  return req;
}

function expect401(res: request.Response, reason: string, token?: string) {
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String), reason });
  expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  if (token) expect(JSON.stringify(res.body)).not.toContain(token);
}

describe('client JWT authentication', () => {
  it('admits a valid token on discovery and service calls and answers spec bodies', async () => {
    const { app, ruleset } = await makeAuthApp([inlineClient()]);
    const discovery = await call(app, await signToken(key, { aud: `${BASE}/cds-services` }), '/cds-services');
    expect(discovery.status).toBe(200);
    expect(discovery.body.services).toHaveLength(HOOK_MODULES.length);
    const res = await call(app, await signToken(key), SERVICE_PATH, validRequest('order-sign', ruleset));
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.cards)).toBe(true);
  });

  it('refuses a call without a token, or with a non-Bearer or garbled one', async () => {
    const { app, ruleset } = await makeAuthApp([inlineClient()]);
    expect401(await call(app, undefined, '/cds-services'), 'missing-token');
    expect401(await call(app, undefined, SERVICE_PATH, validRequest('order-sign', ruleset)), 'missing-token');
    expect401(await request(app).get('/cds-services').set('Authorization', 'Basic dXNlcjpwYXNz'), 'malformed-token');
    expect401(await request(app).get('/cds-services').set('Authorization', 'Bearer '), 'malformed-token');
    expect401(await call(app, 'not.a.jwt', '/cds-services'), 'malformed-token');
    expect401(await call(app, 'eyJhbGciOiJFUzM4NCJ9.e30', '/cds-services'), 'malformed-token');
    // unknown paths under /cds-services are not revealed to unauthenticated callers
    expect401(await call(app, undefined, '/cds-services/nope', {}), 'missing-token');
  });

  it('leaves health checks and CORS preflight open', async () => {
    const { app } = await makeAuthApp([inlineClient()]);
    expect((await request(app).get('/healthz')).status).toBe(200);
    const pre = await request(app)
      .options(SERVICE_PATH)
      .set('Origin', 'https://sandbox.cds-hooks.org')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(pre.status).toBe(204);
  });

  it('refuses every class of bad token with its reason code', async () => {
    const { app } = await makeAuthApp([{ ...inlineClient(), tenant: 'tenant-a' }], { JWT_MAX_LIFETIME_S: 600, JWT_CLOCK_SKEW_S: 60 });
    const t = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, k = key) =>
      signToken(k, { tenant: 'tenant-a', ...claims }, header);
    const cases: [string, Promise<string> | string][] = [
      ['unknown-issuer', t({ iss: 'https://evil.example.com' })],
      ['bad-signature', t({}, {}, otherKey)],
      ['unknown-key', t({}, { kid: 'no-such-kid' })],
      ['missing-kid', t({}, { kid: undefined })],
      // an unlisted jku is ignored (never fetched): the client's own keys decide, and they refuse the attacker's
      ['bad-signature', t({}, { jku: 'https://evil.example.com/jwks.json' }, otherKey)],
      ['bad-audience', t({ aud: `${BASE}/cds-services/inotrope-patient-view` })],
      ['bad-audience', t({ aud: `http://127.0.0.1${SERVICE_PATH}` })],
      ['bad-audience', t({ aud: [SERVICE_AUD, 'https://other.example.org'] })],
      ['missing-claim', t({ aud: undefined })],
      ['expired', t({ iat: NOW_S - 400, exp: NOW_S - 61 })],
      ['missing-claim', t({ exp: undefined })],
      ['missing-claim', t({ iat: undefined })],
      ['iat-in-future', t({ iat: NOW_S + 120, exp: NOW_S + 300 })],
      ['not-yet-valid', t({ nbf: NOW_S + 120 })],
      ['lifetime-too-long', t({ exp: NOW_S + 601 })],
      ['missing-jti', t({ jti: undefined })],
      ['missing-jti', t({ jti: '' })],
      ['bad-tenant', t({ tenant: 'tenant-b' })],
      ['bad-tenant', t({ tenant: undefined })],
      ['malformed-token', t({ exp: 'soon' })],
      ['alg-not-allowed', unsignedToken({ alg: 'none', typ: 'JWT', kid: key.kid }, { iss: ISS, aud: SERVICE_AUD, iat: NOW_S, exp: NOW_S + 300, jti: 'x' })],
      ['alg-not-allowed', unsignedToken({ alg: 'None', typ: 'JWT', kid: key.kid }, { iss: ISS, aud: SERVICE_AUD, iat: NOW_S, exp: NOW_S + 300, jti: 'y' })],
    ];
    // HS256 signed with a shared secret, and with the client's public key as the HMAC secret (alg confusion)
    const hs = (secret: Uint8Array) =>
      new SignJWT({ iss: ISS, aud: SERVICE_AUD, iat: NOW_S, exp: NOW_S + 300, jti: crypto.randomUUID(), tenant: 'tenant-a' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.kid })
        .sign(secret);
    cases.push(['alg-not-allowed', hs(new TextEncoder().encode('a-shared-secret-of-decent-length!!'))]);
    cases.push(['alg-not-allowed', hs(new TextEncoder().encode(JSON.stringify(key.publicJwk)))]);
    // a header claiming ES256 over an ES384 signature: the client has no ES256 key of that kid
    const [, body, sig] = (await t()).split('.');
    cases.push(['unknown-key', `${unsignedToken({ alg: 'ES256', typ: 'JWT', kid: key.kid }, {}).split('.')[0]}.${body}.${sig}`]);

    for (const [reason, tokenPromise] of cases) {
      const token = await tokenPromise;
      const res = await call(app, token, SERVICE_PATH, {});
      expect({ reason, status: res.status, got: res.body.reason }).toEqual({ reason, status: 401, got: reason });
      expect(JSON.stringify(res.body)).not.toContain(token);
    }
    // and the same client's well-formed token is admitted (the table above fails for the stated reason only)
    expect((await call(app, await t({}), SERVICE_PATH, {})).status).not.toBe(401);
  });

  it('accepts small clock skew, a one-element aud array and a trailing slash on aud', async () => {
    const { app } = await makeAuthApp([inlineClient()], { JWT_CLOCK_SKEW_S: 60 });
    for (const claims of [
      { exp: NOW_S - 30, iat: NOW_S - 200 },
      { iat: NOW_S + 30, exp: NOW_S + 300 },
      { aud: [SERVICE_AUD] },
      { aud: `${SERVICE_AUD}/` },
    ]) {
      const res = await call(app, await signToken(key, claims), SERVICE_PATH, {});
      expect(res.status, JSON.stringify(claims)).toBe(400); // past authentication: the empty body is refused by validation
    }
  });

  it('refuses a replayed token (same jti) while it lives', async () => {
    const { app } = await makeAuthApp([inlineClient()]);
    const token = await signToken(key, { aud: `${BASE}/cds-services` });
    expect((await call(app, token, '/cds-services')).status).toBe(200);
    expect401(await call(app, token, '/cds-services'), 'replayed-jti', token);
    // a different jti from the same client is fine
    expect((await call(app, await signToken(key, { aud: `${BASE}/cds-services` }), '/cds-services')).status).toBe(200);
  });

  it('logs the reason and expected vs received aud, never the token', async () => {
    const { app, logs } = await makeAuthApp([inlineClient()], {}, { logLevel: 'trace' });
    const token = await signToken(key, { aud: 'https://wrong.example.org/cds-services' });
    expect401(await call(app, token, '/cds-services'), 'bad-audience', token);
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.authFailure === 'bad-audience');
    expect(line).toMatchObject({ expectedAud: `${BASE}/cds-services`, receivedAud: 'https://wrong.example.org/cds-services', iss: ISS, status: 401 });
    for (const l of logs) {
      expect(l).not.toContain(token);
      expect(l).not.toContain(token.split('.')[2]);
    }
  });

  it('counts failures by reason', async () => {
    const config = testConfig({ CDS_AUTH: 'on', PUBLIC_BASE_URL: BASE, CDS_CLIENTS_FILE: writeClientsFile({ clients: [inlineClient()] }) });
    const metrics = new Metrics();
    const app = createApp({
      config,
      logger: createLogger({ LOG_LEVEL: 'silent' }, logCapture().stream),
      rules: staticSource(await loadRuleset(config.RULES_DIR)),
      metrics,
      stores: memoryStores(config, () => new Date(NOW_S * 1000)),
      now: () => new Date(NOW_S * 1000),
    });
    await call(app, undefined, '/cds-services');
    await call(app, undefined, '/cds-services');
    await call(app, await signToken(key, { iss: 'https://evil.example.com' }), '/cds-services');
    const counter = await metrics.registry.getSingleMetric('cds_auth_failures_total')!.get();
    const byReason = Object.fromEntries(counter.values.map((v) => [v.labels.reason, v.value]));
    expect(byReason).toEqual({ 'missing-token': 2, 'unknown-issuer': 1 });
  });
});

describe('client keys from a JWKS URL or an allowed jku', () => {
  const JWKS_HOST = 'https://keys.ehr.example.org';

  it('fetches jwksUrl once and serves later calls from the cache', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const scope = nock(JWKS_HOST).get('/jwks.json').once().reply(200, { keys: [key.publicJwk] });
    const { app } = await makeAuthApp([{ iss: ISS, jwksUrl: `${JWKS_HOST}/jwks.json`, fhirServers: [EHR_FHIR] }]);
    for (let i = 0; i < 3; i++) {
      expect((await call(app, await signToken(key, { aud: `${BASE}/cds-services` }), '/cds-services')).status).toBe(200);
    }
    expect(scope.isDone()).toBe(true);
  });

  it('answers jwks-unavailable when the JWKS times out or fails', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    nock(JWKS_HOST).get('/slow.json').delay(1_000).reply(200, { keys: [key.publicJwk] });
    nock(JWKS_HOST).get('/broken.json').reply(500, 'oops');
    const { app } = await makeAuthApp(
      [
        { iss: ISS, jwksUrl: `${JWKS_HOST}/slow.json`, fhirServers: [] },
        { iss: 'https://other-ehr.example.org', jwksUrl: `${JWKS_HOST}/broken.json`, fhirServers: [] },
      ],
      { JWKS_TIMEOUT_MS: 100 },
    );
    const started = Date.now();
    expect401(await call(app, await signToken(key, { aud: `${BASE}/cds-services` }), '/cds-services'), 'jwks-unavailable');
    expect(Date.now() - started).toBeLessThan(900);
    const other = await signToken(key, { iss: 'https://other-ehr.example.org', aud: `${BASE}/cds-services` });
    expect401(await call(app, other, '/cds-services'), 'jwks-unavailable');
  });

  it('honours a jku on the client list and never fetches one that is not', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const good = nock(JWKS_HOST).get('/jku.json').reply(200, { keys: [key.publicJwk] });
    const evil = nock('https://evil.example.com').get(/.*/).reply(200, { keys: [otherKey.publicJwk] });
    const { app } = await makeAuthApp([{ iss: ISS, jku: [`${JWKS_HOST}/jku.json`], fhirServers: [EHR_FHIR] }]);
    const ok = await signToken(key, { aud: `${BASE}/cds-services` }, { jku: `${JWKS_HOST}/jku.json` });
    expect((await call(app, ok, '/cds-services')).status).toBe(200);
    expect(good.isDone()).toBe(true);
    const forged = await signToken(otherKey, { aud: `${BASE}/cds-services` }, { jku: 'https://evil.example.com/jwks.json' });
    expect401(await call(app, forged, '/cds-services'), 'jku-not-allowed');
    expect(evil.isDone()).toBe(false);
    // a client with only jku keys cannot be called without naming one
    expect401(await call(app, await signToken(key, { aud: `${BASE}/cds-services` }), '/cds-services'), 'unknown-key');
  });
});

describe('the official STU2 example token', () => {
  const token = readExample('spec-stu2/jwt-compact.txt').trim();
  const jwks = JSON.parse(readExample('spec-stu2/jwks-public.json')) as JSONWebKeySet;
  const exampleClient = { iss: 'https://fhir-ehr.example.com/', jwks, fhirServers: [] };

  it('verifies against the published JWKS (the signature is genuine)', async () => {
    await expect(compactVerify(token, createLocalJWKSet(jwks), { algorithms: ['ES384'] })).resolves.toBeDefined();
    const verify = createTokenVerifier({
      clients: parseClients(JSON.stringify({ clients: [exampleClient] }), 'test'),
      clockSkewS: 60,
      maxLifetimeS: 200_000_000, // the example was minted with iat in 2011
      jwksTimeoutMs: 100,
      jwksCacheS: 60,
      now: () => new Date('2015-01-29T12:00:00Z'),
    });
    // its jku header is not on the client's list: never fetched; its kid is among the client's inline keys, so
    // it verifies with them (the Sandbox's way); with the jku listed it verifies with the keys found there
    expect(await verify(token, 'https://cds.example.org/cds-services/some-service')).toMatchObject({ ok: true });
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    nock('https://fhir-ehr.example.com').get('/jwk_uri').reply(200, jwks);
    const withJku = createTokenVerifier({
      clients: parseClients(JSON.stringify({ clients: [{ ...exampleClient, jku: ['https://fhir-ehr.example.com/jwk_uri'] }] }), 'test'),
      clockSkewS: 60,
      maxLifetimeS: 200_000_000,
      jwksTimeoutMs: 1_000,
      jwksCacheS: 60,
      now: () => new Date('2015-01-29T12:00:00Z'),
    });
    expect(await withJku(token, 'https://cds.example.org/cds-services/some-service')).toMatchObject({
      ok: true,
      claims: { iss: 'https://fhir-ehr.example.com/', jti: 'ee22b021-e1b7-4611-ba5b-8eec6a33ac1e', tenant: '2ddd6c3a-8e9a-44c6-a305-52111ad302a2' },
    });
  });

  it('is refused by the service as expired at the real clock', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    nock('https://fhir-ehr.example.com').get('/jwk_uri').reply(200, jwks);
    const { app } = await makeAuthApp([{ ...exampleClient, jku: ['https://fhir-ehr.example.com/jwk_uri'] }], {
      PUBLIC_BASE_URL: 'https://cds.example.org',
    });
    expect401(await call(app, token, '/cds-services'), 'expired', token);
  });

  it('the sandbox client configuration (jwksUrl + jku, ES384) is a valid clients file', async () => {
    const sandboxJwks = JSON.parse(readExample('peer-fixtures/cds-hooks-sandbox-jwks-public.json')) as JSONWebKeySet;
    const clients = parseClients(
      JSON.stringify({
        clients: [
          {
            iss: 'https://sandbox.cds-hooks.org',
            jwks: sandboxJwks,
            jku: ['https://sandbox.cds-hooks.org/.well-known/jwks.json'],
            fhirServers: ['https://launch.smarthealthit.org/v/r4/fhir'],
          },
        ],
      }),
      'test',
    );
    expect(clients[0]!.jwks!.keys[0]!.kid).toBe('44823f3d-0b01-4a6c-a80e-b9d3e8a7226f');
  });
});

describe('start-up configuration', () => {
  it('authentication is on by default and needs PUBLIC_BASE_URL and CDS_CLIENTS_FILE', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/PUBLIC_BASE_URL: required when CDS_AUTH=on[\s\S]*CDS_CLIENTS_FILE: required/);
    expect(loadConfig({ CDS_AUTH: 'off' }).CDS_AUTH).toBe('off');
    expect(loadConfig({ PUBLIC_BASE_URL: BASE, CDS_CLIENTS_FILE: '/x.json' }).CDS_AUTH).toBe('on');
  });

  it('the Kubernetes example clients file is valid', () => {
    const manifest = parse(readFileSync(path.resolve(import.meta.dirname, '../../deploy/kubernetes/clients-configmap.yaml'), 'utf8')) as {
      data: { 'clients.json': string };
    };
    expect(parseClients(manifest.data['clients.json'], 'configmap').length).toBeGreaterThan(0);
  });

  it('refuses a missing, unparsable or invalid clients file with a clear message', async () => {
    const make = (file: string) =>
      makeAuthApp([], { CDS_CLIENTS_FILE: file }).then(
        () => 'started',
        (err: unknown) => (err instanceof ConfigError ? err.message : `unexpected ${String(err)}`),
      );
    expect(await make('/nonexistent/clients.json')).toMatch(/cannot be read \(ENOENT\)/);
    expect(await make(writeClientsFile('{not json'))).toMatch(/is not valid JSON/);
    expect(await make(writeClientsFile({ clients: [] }))).toMatch(/clients: /);
    expect(await make(writeClientsFile({ clients: [{ iss: ISS, fhirServers: [] }] }))).toMatch(/give the client keys/);
    const privateJwk = { ...(await exportJWK(key.privateKey)), kid: 'k' };
    expect(await make(writeClientsFile({ clients: [{ iss: ISS, jwks: { keys: [privateJwk] }, fhirServers: [] }] }))).toMatch(/public keys only/);
    expect(await make(writeClientsFile({ clients: [inlineClient(), inlineClient()] }))).toMatch(/each iss may appear only once/);
    expect(await make(writeClientsFile({ clients: [{ ...inlineClient(), fhirServers: ['ftp://x'] }] }))).toMatch(/fhirServers\.0/);
  });
});

describe('interoperability with the CDS Hooks Sandbox (it always sends a jku)', () => {
  const SANDBOX_JKU = 'https://sandbox.cds-hooks.org/.well-known/jwks.json';
  const JWKS_HOST = 'https://keys.ehr.example.org';

  it('verifies a Sandbox-shaped token whose kid is among the client keys, never fetching the unlisted jku', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const sandbox = nock('https://sandbox.cds-hooks.org').get(/.*/).reply(200, { keys: [otherKey.publicJwk] });
    const es384 = await newKey('ES384', '44823f3d-0b01-4a6c-a80e-b9d3e8a7226f');
    const { app } = await makeAuthApp([{ iss: ISS, jwks: { keys: [es384.publicJwk] }, fhirServers: [EHR_FHIR] }]);
    // as the Sandbox mints them: ES384, typ JWT, kid and jku in the header; iss, aud, exp, iat, jti
    const shaped = (key: TestKey) => signToken(key, { aud: `${BASE}/cds-services`, exp: NOW_S + 300 }, { typ: 'JWT', jku: SANDBOX_JKU });
    expect((await call(app, await shaped(es384), '/cds-services')).status).toBe(200);
    // a key the client does not list is refused, whatever the jku offers
    const stranger = await newKey('ES384', 'not-configured');
    expect401(await call(app, await shaped(stranger), '/cds-services'), 'unknown-key');
    expect(sandbox.isDone()).toBe(false);
  });

  it('a client with a jwksUrl: the token is checked against it, not against the unlisted jku', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const sandbox = nock('https://sandbox.cds-hooks.org').get(/.*/).reply(200, { keys: [otherKey.publicJwk] });
    const own = nock(JWKS_HOST).get('/own.json').reply(200, { keys: [key.publicJwk] });
    const { app } = await makeAuthApp([{ iss: ISS, jwksUrl: `${JWKS_HOST}/own.json`, fhirServers: [EHR_FHIR] }]);
    const token = await signToken(key, { aud: `${BASE}/cds-services` }, { jku: SANDBOX_JKU });
    expect((await call(app, token, '/cds-services')).status).toBe(200);
    expect(own.isDone()).toBe(true);
    expect(sandbox.isDone()).toBe(false);
  });
});
