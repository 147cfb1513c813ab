import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../../config.js';
import { ServiceError } from '../../shared/errors.js';
import { trimEnd } from '../../shared/syntax.js';

/**
 * Operator authentication for the admin routes (`GET /feedback`, `/admin/*`, `/analytics/*`, console
 * data). These are not CDS Hooks routes: the callers are people running the service, not EHRs. One of:
 *
 * - `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time;
 * - an OIDC access token from `ADMIN_OIDC_ISSUER` (keys from its discovery document) for audience
 *   `ADMIN_OIDC_AUDIENCE`, carrying the role `ADMIN_OIDC_ROLE` in the claim `ADMIN_OIDC_ROLE_CLAIM`;
 * - with neither configured, only a caller whose TCP peer is loopback. The socket's address is used,
 *   never `X-Forwarded-For` or `req.ip`: a proxy could set those to anything.
 */

export type OperatorConfig = Pick<
  Config,
  'ADMIN_TOKEN' | 'ADMIN_OIDC_ISSUER' | 'ADMIN_OIDC_AUDIENCE' | 'ADMIN_OIDC_ROLE' | 'ADMIN_OIDC_ROLE_CLAIM' | 'JWT_CLOCK_SKEW_S' | 'JWKS_TIMEOUT_MS' | 'JWKS_CACHE_S'
>;

export const OPERATOR_FAILURE_REASONS = ['missing-credential', 'bad-credential', 'missing-role', 'not-loopback', 'oidc-unavailable'] as const;
export type OperatorFailureReason = (typeof OPERATOR_FAILURE_REASONS)[number];

export interface OperatorAuthOptions {
  config: OperatorConfig;
  now?: () => Date;
  /** Called once per refused request, for metrics. */
  onFailure?: (reason: OperatorFailureReason) => void;
  /** Injected for tests; the discovery document is fetched with it. */
  fetch?: typeof fetch;
}

/** How an admitted operator was recognised, for the request log. */
export type OperatorIdentity = { via: 'token' } | { via: 'oidc'; sub?: string } | { via: 'loopback' };

const ASYMMETRIC_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];
/** `\S` and `\s` are disjoint, so this pattern is linear in the header's length. */
const BEARER = /^Bearer +(\S+)\s*$/i;
const MAX_CREDENTIAL_CHARS = 8192;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether a socket's remote address is loopback (IPv4-mapped IPv6 addresses included). */
export function isLoopbackPeer(address: string | undefined): boolean {
  if (address === undefined) return false;
  const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  const family = isIP(mapped);
  if (family === 4) return LOOPBACK.check(mapped, 'ipv4');
  if (family === 6) return LOOPBACK.check(mapped, 'ipv6');
  return false;
}

/** Express middleware admitting only operators; see the module comment for how. */
export function requireOperator(options: OperatorAuthOptions): RequestHandler {
  const { config } = options;
  const now = options.now ?? (() => new Date());
  const tokenDigest = config.ADMIN_TOKEN !== undefined ? digest(config.ADMIN_TOKEN) : undefined;
  const oidc = config.ADMIN_OIDC_ISSUER !== undefined && config.ADMIN_OIDC_AUDIENCE !== undefined ? oidcVerifier(config, now, options.fetch ?? fetch) : undefined;
  const credentialRequired = tokenDigest !== undefined || oidc !== undefined;

  return async function requireOperator(req, res, next) {
    const logFields = res.locals.logFields as Record<string, unknown> | undefined;
    const admit = (identity: OperatorIdentity) => {
      if (logFields) logFields.operator = identity.via === 'oidc' && identity.sub !== undefined ? `oidc:${identity.sub}` : identity.via;
      next();
    };
    const refuse = (reason: OperatorFailureReason) => {
      if (logFields) logFields.operatorAuthFailure = reason;
      options.onFailure?.(reason);
      next(operatorError(reason, credentialRequired, res.setHeader.bind(res)));
    };

    if (!credentialRequired) {
      if (isLoopbackPeer(req.socket.remoteAddress)) admit({ via: 'loopback' });
      else refuse('not-loopback');
      return;
    }
    const header = req.get('authorization');
    if (header === undefined) return refuse('missing-credential');
    const credential = header.length <= MAX_CREDENTIAL_CHARS ? BEARER.exec(header)?.[1] : undefined;
    if (credential === undefined) return refuse('bad-credential');
    if (tokenDigest !== undefined && timingSafeEqual(digest(credential), tokenDigest)) return admit({ via: 'token' });
    if (oidc === undefined || !JWT_SHAPE.test(credential)) return refuse('bad-credential');
    const result = await oidc(credential);
    if (result.ok) admit({ via: 'oidc', ...(result.sub !== undefined && { sub: result.sub }) });
    else refuse(result.reason);
  };
}

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function operatorError(reason: OperatorFailureReason, credentialRequired: boolean, setHeader: (name: string, value: string) => unknown): ServiceError {
  switch (reason) {
    case 'not-loopback':
      return new ServiceError(
        'forbidden',
        'Admin routes answer only on loopback unless an operator credential is configured (ADMIN_TOKEN or ADMIN_OIDC_ISSUER)',
      );
    case 'missing-role':
      return new ServiceError('forbidden', 'The operator token does not carry the admin role');
    case 'oidc-unavailable':
      return new ServiceError('unavailable', 'Operator tokens cannot be verified right now; try again shortly');
    default:
      if (credentialRequired) setHeader('WWW-Authenticate', 'Bearer realm="inotrope-cds-admin"');
      return new ServiceError('unauthorized', 'An operator credential is required (Authorization: Bearer <token>)');
  }
}

type OidcResult = { ok: true; sub?: string } | { ok: false; reason: OperatorFailureReason };

/**
 * Verifies OIDC access tokens: signature by the issuer's keys (from `jwks_uri` in its discovery
 * document, fetched on first use and again after a failure at most every 30 s), `iss`, `aud`, `exp`
 * (with JWT_CLOCK_SKEW_S), asymmetric algorithms only, then the role.
 */
function oidcVerifier(config: OperatorConfig, now: () => Date, fetchImpl: typeof fetch): (token: string) => Promise<OidcResult> {
  const issuer = config.ADMIN_OIDC_ISSUER!;
  const discoveryUrl = `${trimEnd(issuer, '/')}/.well-known/openid-configuration`;
  let keys: JWTVerifyGetKey | undefined;
  let pending: Promise<JWTVerifyGetKey | undefined> | undefined;
  let failedAt = -Infinity;

  const discover = async (): Promise<JWTVerifyGetKey | undefined> => {
    const res = await fetchImpl(discoveryUrl, { signal: AbortSignal.timeout(config.JWKS_TIMEOUT_MS), redirect: 'error' });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OIDC Discovery §4.3: the document's issuer must be the one configured.
    if (doc.issuer !== issuer || typeof doc.jwks_uri !== 'string') throw new Error('discovery document does not match the issuer');
    const jwksUri = new URL(doc.jwks_uri);
    if (jwksUri.protocol !== new URL(issuer).protocol) throw new Error('jwks_uri scheme differs from the issuer');
    return createRemoteJWKSet(jwksUri, {
      timeoutDuration: config.JWKS_TIMEOUT_MS,
      cacheMaxAge: config.JWKS_CACHE_S * 1000,
      cooldownDuration: Math.min(30_000, config.JWKS_CACHE_S * 1000),
    });
  };
  const keySet = async (): Promise<JWTVerifyGetKey | undefined> => {
    if (keys) return keys;
    if (Date.now() - failedAt < 30_000) return undefined;
    pending ??= discover()
      .then((k) => (keys = k))
      .catch(() => {
        failedAt = Date.now();
        return undefined;
      })
      .finally(() => (pending = undefined));
    return pending;
  };

  return async function verifyOperatorToken(token) {
    const set = await keySet();
    if (!set) return { ok: false, reason: 'oidc-unavailable' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, set, {
        issuer,
        audience: config.ADMIN_OIDC_AUDIENCE!,
        algorithms: ASYMMETRIC_ALGORITHMS,
        requiredClaims: ['exp'],
        clockTolerance: config.JWT_CLOCK_SKEW_S,
        currentDate: now(),
      }));
    } catch (err) {
      // Timeouts, a malformed or non-200 JWKS answer (jose's generic error) and network failures say
      // nothing about the token: the keys could not be read.
      const unavailable =
        !(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err.code === errors.JOSEError.code;
      return { ok: false, reason: unavailable ? 'oidc-unavailable' : 'bad-credential' };
    }
    if (!rolesOf(payload, config.ADMIN_OIDC_ROLE_CLAIM).includes(config.ADMIN_OIDC_ROLE)) return { ok: false, reason: 'missing-role' };
    return { ok: true, ...(typeof payload.sub === 'string' && { sub: payload.sub.slice(0, 120) }) };
  };
}

/**
 * The roles in a claim named by a dotted path (`roles`, `realm_access.roles`): an array of strings, or
 * one space-separated string as OAuth's `scope` is written.
 */
export function rolesOf(payload: JWTPayload, claim: string): string[] {
  let value: unknown = payload;
  for (const key of claim.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return [];
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'string') return value.split(' ').filter((r) => r.length > 0);
  return Array.isArray(value) ? value.filter((r): r is string => typeof r === 'string') : [];
}
