import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { SignJWT, type JWTPayload } from 'jose';
import type { Express } from 'express';
import { ConfigError, loadConfig, type Config } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { isLoopbackPeer, rolesOf } from '../../src/http/auth/operator.js';
import type { RulesetSource } from '../../src/rules/ruleset.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import { logCapture, makeApp } from '../helpers.js';
import { NOW_S, newKey, type TestKey } from './security-helpers.js';

/**
 * Operator authentication on the admin routes (issue #16 item 6), over HTTP against the real app.
 * GET /feedback is the admin route today; every admin route added later mounts the same guard.
 */

const ADMIN_TOKEN = 'op-4f1c2b7a9e0d3c5b8a6f1e2d4c7b9a0e3f5d';

/** Serves the app on loopback but makes every connection look as if it came from `peer`. */
async function serveAs(app: Express, peer: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(app);
  server.on('connection', (socket: Socket) => Object.defineProperty(socket, 'remoteAddress', { value: peer }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('admin routes with no operator credential configured: loopback peers only', () => {
  it('answers a loopback peer', async () => {
    const { app } = await makeApp();
    await request(app).get('/feedback').expect(200);
  });

  it('refuses a remote peer, whatever X-Forwarded-For says, and logs why', async () => {
    const { app, logs } = await makeApp();
    const remote = await serveAs(app, '203.0.113.7');
    try {
      for (const xff of [undefined, '127.0.0.1', '::1']) {
        const res = await fetch(`${remote.url}/feedback`, { headers: xff ? { 'X-Forwarded-For': xff, 'X-Real-IP': xff } : {} });
        expect(res.status).toBe(403);
        expect(await res.json()).toMatchObject({ error: 'forbidden', message: expect.stringMatching(/loopback/) });
      }
    } finally {
      await remote.close();
    }
    expect(logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.route === 'unmatched' || l.operatorAuthFailure)).toContainEqual(
      expect.objectContaining({ status: 403, operatorAuthFailure: 'not-loopback' }),
    );
  });

  it('refuses a remote peer even when the app trusts a proxy (req.ip is not used)', async () => {
    const { app } = await makeApp();
    app.set('trust proxy', true);
    const remote = await serveAs(app, '198.51.100.4');
    try {
      const res = await fetch(`${remote.url}/feedback`, { headers: { 'X-Forwarded-For': '127.0.0.1' } });
      expect(res.status).toBe(403);
    } finally {
      await remote.close();
    }
  });

  it('recognises loopback addresses, IPv4-mapped ones included, and nothing else', () => {
    for (const a of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.2']) expect(isLoopbackPeer(a), a).toBe(true);
    for (const a of [undefined, '', '10.0.0.1', '::', '::ffff:10.0.0.1', 'fe80::1', '128.0.0.1', 'localhost', '127.0.0.1.evil']) {
      expect(isLoopbackPeer(a), String(a)).toBe(false);
    }
  });
});

describe('ADMIN_TOKEN', () => {
  it('admits the exact bearer token, from any peer', async () => {
    const { app } = await makeApp({ ADMIN_TOKEN });
    await request(app).get('/feedback').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    const remote = await serveAs(app, '203.0.113.9');
    try {
      const res = await fetch(`${remote.url}/feedback`, { headers: { Authorization: `bearer  ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
    } finally {
      await remote.close();
    }
  });

  it('refuses a missing, wrong, truncated, extended or non-Bearer credential with 401, loopback included', async () => {
    const { app, logs } = await makeApp({ ADMIN_TOKEN });
    const headers = [
      undefined,
      'Bearer',
      'Bearer ',
      `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
      `Bearer ${ADMIN_TOKEN}x`,
      `Bearer ${ADMIN_TOKEN.toUpperCase()}`,
      `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`,
      ADMIN_TOKEN,
      `Bearer ${'x'.repeat(9000)}`,
    ];
    for (const header of headers) {
      const req = request(app).get('/feedback');
      if (header !== undefined) req.set('Authorization', header);
      const res = await req;
      expect(res.status, String(header).slice(0, 40)).toBe(401);
      expect(res.body).toEqual({ error: 'unauthorized', message: expect.any(String) });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    }
    expect(logs.join('\n')).not.toContain(ADMIN_TOKEN.slice(0, 12));
  });

  it('is at least 32 characters', () => {
    expect(() => loadConfig({ CDS_AUTH: 'off', ADMIN_TOKEN: 'short-secret' })).toThrow(/ADMIN_TOKEN: must be at least 32 characters/);
  });
});

describe('CORS is only for CDS clients', () => {
  it('answers CORS on /cds-services, and on nothing else', async () => {
    const { app } = await makeApp({ ADMIN_TOKEN });
    const origin = 'https://evil.example';
    const cds = await request(app).get('/cds-services').set('Origin', origin);
    expect(cds.headers['access-control-allow-origin']).toBe('*');
    for (const path of ['/feedback', '/metrics', '/readyz', '/healthz']) {
      const req = request(app).get(path).set('Origin', origin);
      if (path === '/feedback') req.set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      const res = await req;
      expect(res.status, path).toBe(200);
      expect(res.headers['access-control-allow-origin'], path).toBeUndefined();
      const preflight = await request(app).options(path).set('Origin', origin).set('Access-Control-Request-Method', 'GET');
      expect(preflight.headers['access-control-allow-origin'], `OPTIONS ${path}`).toBeUndefined();
    }
  });
});

describe('/readyz is coarse', () => {
  const app = (source: RulesetSource) => {
    const capture = logCapture();
    const config = loadConfig({ CDS_AUTH: 'off', RULES_WATCH: 'off' });
    return createApp({ config, logger: createLogger({ LOG_LEVEL: 'silent' }, capture.stream), rules: source, stores: memoryStores(config) });
  };

  it('is 200 with the version and `reload: refused` while the previous ruleset serves, and no file or message', async () => {
    const { ruleset } = await makeApp();
    const lastError = '1 error; still serving abc: /srv/secret/rules/rules.json#/rules/0: is not valid JSON near "password"';
    const res = await request(app({ current: () => ruleset, status: () => ({ version: ruleset.version, loadedAt: ruleset.loadedAt, lastError }) }))
      .get('/readyz')
      .expect(200);
    expect(res.body).toEqual({
      status: 'ready',
      ruleset: { version: ruleset.version, loadedAt: ruleset.loadedAt, rules: ruleset.counts },
      reload: 'refused',
      store: 'ok',
    });
  });

  it('is 503 only when no ruleset is loaded', async () => {
    const none: RulesetSource = {
      current: () => {
        throw new Error('no ruleset loaded');
      },
      status: () => ({ version: '', loadedAt: '' }),
    };
    const res = await request(app(none)).get('/readyz').expect(503);
    expect(res.body).toEqual({ status: 'unavailable', ruleset: null });
  });
});

describe('OIDC access tokens', () => {
  let key: TestKey;
  let stranger: TestKey;
  let idp: Server;
  let issuer: string;
  let discoveryUp = true;
  const AUDIENCE = 'inotrope-cds-admin';

  beforeAll(async () => {
    key = await newKey('RS256', 'idp-key-1');
    stranger = await newKey('RS256', 'idp-key-1');
    // A local identity provider: discovery document and JWKS on loopback, nothing leaves the machine.
    idp = createServer((req, res) => {
      if (req.url === '/realms/cds/.well-known/openid-configuration' && discoveryUp) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` }));
      } else if (req.url === '/realms/cds/protocol/openid-connect/certs') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [key.publicJwk] }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/realms/cds`;
  });
  afterAll(() => new Promise<void>((resolve) => idp.close(() => resolve())));

  const oidcConfig = (extra: Partial<Config> = {}): Partial<Config> => ({ ADMIN_OIDC_ISSUER: issuer, ADMIN_OIDC_AUDIENCE: AUDIENCE, ...extra });

  async function accessToken(claims: JWTPayload = {}, signer: TestKey = key, alg = 'RS256'): Promise<string> {
    return new SignJWT({ iss: issuer, aud: AUDIENCE, sub: 'op-alice', iat: NOW_S, exp: NOW_S + 300, roles: ['cds-admin'], ...claims })
      .setProtectedHeader({ alg, kid: signer.kid, typ: 'at+jwt' })
      .sign(signer.privateKey);
  }
  const get = (app: Express, token: string) => request(app).get('/feedback').set('Authorization', `Bearer ${token}`);

  it('admits a token from the issuer for the audience with the role, and logs the operator', async () => {
    const { app, logs } = await makeApp(oidcConfig());
    await get(app, await accessToken()).expect(200);
    expect(logs.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ status: 200, operator: 'oidc:op-alice' }));
  });

  it('finds the role in a nested claim or a space-separated string', async () => {
    const nested = await makeApp(oidcConfig({ ADMIN_OIDC_ROLE_CLAIM: 'realm_access.roles', ADMIN_OIDC_ROLE: 'ops' }));
    await get(nested.app, await accessToken({ roles: undefined, realm_access: { roles: ['viewer', 'ops'] } })).expect(200);
    await get(nested.app, await accessToken({ realm_access: { roles: ['viewer'] } })).expect(403);
    const scoped = await makeApp(oidcConfig({ ADMIN_OIDC_ROLE_CLAIM: 'scope' }));
    await get(scoped.app, await accessToken({ scope: 'openid cds-admin profile' })).expect(200);
    // Only the token's own members count: nothing inherited from Object.prototype.
    expect(rolesOf({}, 'constructor.name')).toEqual([]);
    expect(rolesOf({ roles: ['cds-admin', 7, null] } as unknown as JWTPayload, 'roles')).toEqual(['cds-admin']);
    expect(rolesOf({}, '__proto__.constructor')).toEqual([]);
  });

  it('refuses a token without the role with 403', async () => {
    const { app } = await makeApp(oidcConfig());
    for (const roles of [undefined, [], ['cds-admin-lite'], 'cds-administrator', ['CDS-ADMIN']]) {
      const res = await get(app, await accessToken({ roles }));
      expect(res.status, JSON.stringify(roles)).toBe(403);
      expect(res.body.error).toBe('forbidden');
    }
  });

  it('refuses wrong issuer, audience, expiry, key, algorithm or shape with 401', async () => {
    const { app } = await makeApp(oidcConfig());
    const hmac = await new SignJWT({ iss: issuer, aud: AUDIENCE, exp: NOW_S + 300, roles: ['cds-admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .sign(new TextEncoder().encode('a'.repeat(32)));
    const cases: Record<string, string> = {
      'other issuer': await accessToken({ iss: 'https://idp.evil.example/realms/cds' }),
      'other audience': await accessToken({ aud: 'account' }),
      expired: await accessToken({ iat: NOW_S - 900, exp: NOW_S - 600 }),
      'no exp': await accessToken({ exp: undefined }),
      'same kid, other key': await accessToken({}, stranger),
      hmac,
      'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: issuer, aud: AUDIENCE, exp: NOW_S + 300, roles: ['cds-admin'] })).toString('base64url')}.`,
      'not a JWT': 'abc.def',
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await get(app, token);
      expect(res.status, name).toBe(401);
      expect(res.body.error, name).toBe('unauthorized');
    }
  });

  it('accepts ADMIN_TOKEN beside OIDC', async () => {
    const { app } = await makeApp(oidcConfig({ ADMIN_TOKEN }));
    await get(app, ADMIN_TOKEN).expect(200);
    await get(app, await accessToken()).expect(200);
    await get(app, 'wrong').expect(401);
  });

  it('answers 503 while the issuer cannot be reached, and recovers', async () => {
    discoveryUp = false;
    try {
      const { app } = await makeApp(oidcConfig());
      const res = await get(app, await accessToken());
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('unavailable');
    } finally {
      discoveryUp = true;
    }
    const { app } = await makeApp(oidcConfig());
    await get(app, await accessToken()).expect(200);
  });

  it('needs issuer and audience together', () => {
    expect(() => loadConfig({ CDS_AUTH: 'off', ADMIN_OIDC_ISSUER: 'https://idp.example.org/realms/cds' })).toThrow(ConfigError);
    expect(() => loadConfig({ CDS_AUTH: 'off', ADMIN_OIDC_AUDIENCE: 'x' })).toThrow(/set both or neither/);
    expect(() => loadConfig({ CDS_AUTH: 'off', ADMIN_OIDC_ISSUER: 'ftp://idp', ADMIN_OIDC_AUDIENCE: 'x' })).toThrow(/ADMIN_OIDC_ISSUER/);
  });
});
