import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { CdsClient } from './clients.js';
import { trimEnd } from '../../shared/syntax.js';

/**
 * Verifies a CDS client's JWT per CDS Hooks STU2 §Trusting CDS Clients (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients):
 * known `iss`, key by `kid` from that client's JWKS (a `jku` only when on its list), asymmetric
 * algorithms only, `aud` = the endpoint called, `exp`/`iat` within bounds, `jti` never seen.
 */

const ALLOWED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

export const AUTH_FAILURE_REASONS = [
  'missing-token',
  'malformed-token',
  'alg-not-allowed',
  'missing-kid',
  'missing-claim',
  'unknown-issuer',
  'bad-tenant',
  'jku-not-allowed',
  'unknown-key',
  'bad-signature',
  'jwks-unavailable',
  'bad-audience',
  'expired',
  'not-yet-valid',
  'iat-in-future',
  'lifetime-too-long',
  'missing-jti',
  'replayed-jti',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** Never the token: what identifies the failure (client-supplied strings truncated; `receivedAud` raw, for the edge to describe). */
export interface AuthFailure {
  ok: false;
  reason: AuthFailureReason;
  log: { iss?: string; kid?: string; expectedAud?: string; receivedAud?: unknown };
}
export interface AuthSuccess {
  ok: true;
  client: CdsClient;
  claims: { iss: string; jti: string; tenant?: string };
  /** Until when the jti must be remembered: `exp` plus the clock skew, epoch ms. */
  rememberUntilMs: number;
}
export type VerifyResult = AuthSuccess | AuthFailure;

export interface VerifierOptions {
  clients: readonly CdsClient[];
  clockSkewS: number;
  maxLifetimeS: number;
  jwksTimeoutMs: number;
  jwksCacheS: number;
  now: () => Date;
}

/** A compact JWS is three base64url parts; anything longer than this is not a client assertion. */
const MAX_TOKEN_CHARS = 8192;

export function createTokenVerifier(options: VerifierOptions): (token: string, expectedAud: string) => Promise<VerifyResult> {
  const { clockSkewS, maxLifetimeS, now } = options;
  const byIss = new Map(options.clients.map((c) => [c.iss, c]));
  const localSets = new Map(options.clients.flatMap((c) => (c.jwks ? [[c.iss, createLocalJWKSet(c.jwks)] as const] : [])));
  // Every URL keys may come from is known at start-up (jwksUrl and allowed jku), so each gets one cached set.
  const remoteSets = new Map<string, JWTVerifyGetKey>();
  for (const url of options.clients.flatMap((c) => [...(c.jwksUrl ? [c.jwksUrl] : []), ...(c.jku ?? [])])) {
    if (!remoteSets.has(url)) {
      remoteSets.set(
        url,
        createRemoteJWKSet(new URL(url), {
          timeoutDuration: options.jwksTimeoutMs,
          cacheMaxAge: options.jwksCacheS * 1000,
          cooldownDuration: Math.min(30_000, options.jwksCacheS * 1000),
        }),
      );
    }
  }

  return async function verifyToken(token, expectedAud) {
    const fail = (reason: AuthFailureReason, log: AuthFailure['log'] = {}): AuthFailure => ({ ok: false, reason, log });
    if (token.length > MAX_TOKEN_CHARS) return fail('malformed-token');
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      return fail('malformed-token');
    }
    const kid = typeof header.kid === 'string' ? clip(header.kid) : undefined;
    if (typeof header.alg !== 'string' || !ALLOWED_ALGORITHMS.includes(header.alg)) return fail('alg-not-allowed', { kid });
    if (!kid) return fail('missing-kid');
    if (typeof unverified.iss !== 'string') return fail('missing-claim', { kid });
    const client = byIss.get(unverified.iss);
    if (!client) return fail('unknown-issuer', { iss: clip(unverified.iss), kid });
    const iss = client.iss;

    const configured = localSets.get(iss) ?? (client.jwksUrl ? remoteSets.get(client.jwksUrl) : undefined);
    const listed = typeof header.jku === 'string' && (client.jku ?? []).includes(header.jku);
    // The CDS Hooks Sandbox names its jku in every token. One not on the client's list is never fetched:
    // the token is verified with the client's own keys (inline, or its jwksUrl) by its kid, and refused
    // only when the client has none (or, below, when none of them has that kid).
    if (header.jku !== undefined && !listed && !configured) return fail('jku-not-allowed', { iss, kid });
    const keys = listed ? remoteSets.get(header.jku as string) : configured;
    if (!keys) return fail('unknown-key', { iss, kid });

    const nowDate = now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ALLOWED_ALGORITHMS,
        issuer: iss,
        requiredClaims: ['aud', 'exp', 'iat', 'jti'],
        clockTolerance: clockSkewS,
        currentDate: nowDate,
      }));
    } catch (err) {
      return fail(reasonFor(err), { iss, kid });
    }

    const nowS = nowDate.getTime() / 1000;
    const aud = Array.isArray(payload.aud) && payload.aud.length === 1 ? payload.aud[0] : payload.aud;
    if (typeof aud !== 'string' || trimSlash(aud) !== trimSlash(expectedAud)) {
      return fail('bad-audience', { iss, kid, expectedAud, receivedAud: payload.aud });
    }
    // jose has checked exp and iat are numbers and exp is not past (with skew).
    const exp = payload.exp!;
    const iat = payload.iat!;
    if (iat > nowS + clockSkewS) return fail('iat-in-future', { iss, kid });
    if (exp - iat > maxLifetimeS) return fail('lifetime-too-long', { iss, kid });
    if (typeof payload.jti !== 'string' || payload.jti.length === 0) return fail('missing-jti', { iss, kid });
    if (client.tenant !== undefined && payload.tenant !== client.tenant) return fail('bad-tenant', { iss, kid });
    // The jti is not remembered here: only after the rate limit (src/http/auth/authenticate.ts).
    return {
      ok: true,
      client,
      claims: { iss, jti: payload.jti, ...(typeof payload.tenant === 'string' && { tenant: payload.tenant }) },
      rememberUntilMs: (exp + clockSkewS) * 1000,
    };
  };
}

/** Maps jose's error codes to our reason codes; anything else happened while getting keys. */
function reasonFor(err: unknown): AuthFailureReason {
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return err.claim === 'jti' ? 'missing-jti' : 'missing-claim';
    if (err.claim === 'nbf') return 'not-yet-valid';
    return 'malformed-token';
  }
  if (err instanceof errors.JOSEError) {
    switch (err.code) {
      case errors.JWTExpired.code:
        return 'expired';
      case errors.JWSSignatureVerificationFailed.code:
        return 'bad-signature';
      case errors.JWKSNoMatchingKey.code:
      case errors.JWKSMultipleMatchingKeys.code:
        return 'unknown-key';
      case errors.JOSEAlgNotAllowed.code:
        return 'alg-not-allowed';
      case errors.JWSInvalid.code:
      case errors.JWTInvalid.code:
      case errors.JOSENotSupported.code:
        return 'malformed-token';
      default:
        // JWKSTimeout, JWKSInvalid, and non-200 JWKS answers (JOSEError).
        return 'jwks-unavailable';
    }
  }
  // fetch failures (network, abort, JSON) while downloading a JWKS
  return 'jwks-unavailable';
}

const trimSlash = (s: string): string => trimEnd(s, '/');
const clip = (s: string): string => s.slice(0, 200);
