import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/**
 * A loopback OpenID Connect identity provider for the browser tests: discovery document, an authorize
 * endpoint that signs the configured user in at once and redirects back with a code, a token endpoint
 * that exchanges the code only for the PKCE `code_verifier` whose S256 hash is the `code_challenge` the
 * authorize request carried (RFC 7636 §4.6), and a JWKS. Tokens are ES256 JWTs signed with jose.
 */

export interface ProviderOptions {
  clientId: string;
  /** The `aud` of the access tokens (the service's ADMIN_OIDC_AUDIENCE). */
  audience: string;
  redirectUri: string;
}

export interface Provider {
  issuer: string;
  /** The roles the next user signed in gets (claim `roles`). */
  roles: string[];
  /** Every authorize request, as received. */
  readonly authorizations: Record<string, string>[];
  /** Every code exchange: whether the verifier matched the challenge, and the access token issued. */
  readonly exchanges: { verified: boolean; accessToken?: string }[];
  close(): Promise<void>;
}

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export async function startProvider(options: ProviderOptions): Promise<Provider> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
  const codes = new Map<string, { challenge: string; redirectUri: string; nonce?: string; roles: string[] }>();
  const provider: Provider = { issuer: '', roles: ['cds-admin'], authorizations: [], exchanges: [], close: async () => {} };

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => send(res, 500, { error: 'server_error' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  provider.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider.close = () => new Promise((resolve) => server.close(() => resolve()));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', provider.issuer);
    // The console calls discovery and the token endpoint from its own origin.
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-headers': 'content-type, authorization', 'access-control-allow-methods': 'GET, POST' }).end();
      return;
    }
    if (url.pathname === '/.well-known/openid-configuration') {
      return send(res, 200, {
        issuer: provider.issuer,
        authorization_endpoint: `${provider.issuer}/authorize`,
        token_endpoint: `${provider.issuer}/token`,
        jwks_uri: `${provider.issuer}/jwks`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        scopes_supported: ['openid'],
      });
    }
    if (url.pathname === '/jwks') return send(res, 200, { keys: [jwk] });
    if (url.pathname === '/authorize' && req.method === 'GET') {
      const q = Object.fromEntries(url.searchParams);
      provider.authorizations.push(q);
      const valid =
        q.client_id === options.clientId &&
        q.redirect_uri === options.redirectUri &&
        q.response_type === 'code' &&
        q.code_challenge_method === 'S256' &&
        CHALLENGE.test(q.code_challenge ?? '') &&
        typeof q.state === 'string';
      if (!valid) return send(res, 400, { error: 'invalid_request' });
      const code = randomBytes(32).toString('base64url');
      codes.set(code, { challenge: q.code_challenge!, redirectUri: q.redirect_uri!, ...(q.nonce && { nonce: q.nonce }), roles: [...provider.roles] });
      const back = new URL(options.redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.state!);
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await body(req));
      const grant = codes.get(form.get('code') ?? '');
      // A code is good for one exchange, whatever its outcome.
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const verified = grant !== undefined && createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
      if (
        !grant ||
        !verified ||
        form.get('grant_type') !== 'authorization_code' ||
        form.get('client_id') !== options.clientId ||
        form.get('redirect_uri') !== grant.redirectUri
      ) {
        provider.exchanges.push({ verified });
        return send(res, 400, { error: 'invalid_grant' });
      }
      const sub = `operator-${randomUUID().slice(0, 8)}`;
      const accessToken = await sign(privateKey, { sub, roles: grant.roles, scope: 'openid' }, options.audience);
      const idToken = await sign(privateKey, { sub, ...(grant.nonce && { nonce: grant.nonce }) }, options.clientId);
      provider.exchanges.push({ verified, accessToken });
      res.setHeader('cache-control', 'no-store');
      return send(res, 200, { access_token: accessToken, id_token: idToken, token_type: 'Bearer', expires_in: 300, scope: 'openid' });
    }
    send(res, 404, { error: 'not_found' });
  }

  function sign(key: CryptoKey, claims: Record<string, unknown>, audience: string): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key', typ: 'JWT' })
      .setIssuer(provider.issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
  }

  return provider;
}

function send(res: ServerResponse, status: number, json: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 10_000) throw new Error('token request too large');
  }
  return text;
}
