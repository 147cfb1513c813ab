import type { RequestHandler, Response } from 'express';
import type { Config } from '../../config.js';
import { ServiceError, type ErrorBody } from '../../shared/errors.js';
import { HOOK_MODULES } from '../../cds/hooks/registry.js';
import type { CdsClient } from './clients.js';
import type { JtiStore } from '../../stores/ports.js';
import { createTokenVerifier, type AuthFailureReason, type VerifyResult } from './verify-token.js';
import { trimEnd } from '../../shared/syntax.js';

/** 401 with the generic message and a reason code the client's operators can act on; never token content. */
export class AuthError extends ServiceError {
  constructor(readonly reason: AuthFailureReason) {
    super('unauthorized', 'A valid JWT from a trusted CDS client is required (Authorization: Bearer <JWT>)');
  }

  override toBody(): ErrorBody & { reason: AuthFailureReason } {
    return { ...super.toBody(), reason: this.reason };
  }
}

export interface AuthenticateOptions {
  config: Pick<
    Config,
    'PUBLIC_BASE_URL' | 'JWT_CLOCK_SKEW_S' | 'JWT_MAX_LIFETIME_S' | 'JWKS_TIMEOUT_MS' | 'JWKS_CACHE_S'
  >;
  clients: readonly CdsClient[];
  /** Where accepted tokens' jtis are remembered (replay protection). */
  jtis: JtiStore;
  now: () => Date;
  /** Called once per refused request, for metrics. */
  onFailure?: (reason: AuthFailureReason) => void;
}

const BEARER = /^Bearer +([A-Za-z0-9\-_.]+)\s*$/i;

/**
 * Admits a request under /cds-services only with a valid client JWT whose `aud` is this endpoint's
 * public URL (PUBLIC_BASE_URL + path, not the Host header, which a proxy may rewrite). The verified
 * client is kept on `res.locals` for the per-client FHIR allowlist and rate limit.
 *
 * Two steps, mounted around the rate limiter: `verify` (signature and claims), then `remember` (the
 * jti, refused when seen). A request the rate limiter refuses is never remembered, so a client's 429s
 * cannot flush the replay cache and let a captured token be used again (issue 16).
 */
export function authenticate(options: AuthenticateOptions): { verify: RequestHandler; remember: RequestHandler } {
  const { config } = options;
  const base = trimEnd(config.PUBLIC_BASE_URL ?? '', '/');
  const verifyToken = createTokenVerifier({
    clients: options.clients,
    clockSkewS: config.JWT_CLOCK_SKEW_S,
    maxLifetimeS: config.JWT_MAX_LIFETIME_S,
    jwksTimeoutMs: config.JWKS_TIMEOUT_MS,
    jwksCacheS: config.JWKS_CACHE_S,
    now: options.now,
  });

  const refuse = (res: Response, reason: AuthFailureReason, log: Record<string, unknown>): AuthError => {
    Object.assign(res.locals.logFields as Record<string, unknown>, { authFailure: reason, ...log });
    options.onFailure?.(reason);
    res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
    return new AuthError(reason);
  };

  const verify: RequestHandler = async function authenticate(req, res, next) {
    const header = req.get('authorization');
    const match = header === undefined ? undefined : BEARER.exec(header);
    const expectedAud = `${base}${req.baseUrl}${req.path === '/' ? '' : req.path}`;
    const result: VerifyResult = match
      ? await verifyToken(match[1]!, expectedAud)
      : { ok: false, reason: header === undefined ? 'missing-token' : 'malformed-token', log: {} };
    if (result.ok) {
      res.locals.cdsClient = result.client;
      res.locals.cdsToken = { jti: result.claims.jti, rememberUntilMs: result.rememberUntilMs } satisfies PendingToken;
      Object.assign(res.locals.logFields as Record<string, unknown>, {
        client: result.claims.iss,
        ...(result.claims.tenant !== undefined && { tenant: result.claims.tenant }),
      });
      next();
      return;
    }
    const { receivedAud, ...log } = result.log;
    next(refuse(res, result.reason, { ...log, ...(receivedAud !== undefined && { receivedAud: describeAud(receivedAud) }) }));
  };

  const remember: RequestHandler = async function rememberJti(_req, res, next) {
    const client = authenticatedClient(res);
    const token = res.locals.cdsToken as PendingToken | undefined;
    if (!client || !token) return next();
    try {
      const fresh = await options.jtis.remember(client.iss, token.jti, token.rememberUntilMs, options.now().getTime());
      next(fresh ? undefined : refuse(res, 'replayed-jti', { iss: client.iss }));
    } catch (err) {
      next(err);
    }
  };

  return { verify, remember };
}

interface PendingToken {
  jti: string;
  rememberUntilMs: number;
}

/**
 * A wrong `aud` is logged so operators can fix the client, but it is client-supplied text: its origin
 * and, when it names one of our endpoints, its path are kept; any other path is elided, since it
 * could carry anything (an id, a token).
 */
function describeAud(aud: unknown): string {
  const values = Array.isArray(aud) ? aud : [aud];
  return values
    .map((value) => {
      if (typeof value !== 'string') return `(${typeof value})`;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return '(not a URL)';
      }
      const ours = ENDPOINT_PATHS.has(trimEnd(url.pathname, '/'));
      return `${url.origin}${ours ? url.pathname : '/…'}`;
    })
    .join(' ');
}

const ENDPOINT_PATHS = new Set([
  '/cds-services',
  ...HOOK_MODULES.flatMap(({ service: s }) => [`/cds-services/${s.id}`, `/cds-services/${s.id}/feedback`]),
]);

/** The CDS client that authenticated this request; undefined when CDS_AUTH=off. */
export function authenticatedClient(res: Response): CdsClient | undefined {
  return res.locals.cdsClient as CdsClient | undefined;
}
