import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { Config } from '../config.js';
import { ServiceError } from '../shared/errors.js';

/**
 * Serves the informaticist console (built by `npm run build` into dist/console) at `/console/`.
 * The shell and its assets need no credential and carry no data; the data calls go to `/admin/*` and
 * `/analytics/*` with the operator credential in a header. Hashed assets are cached for a year, the
 * page itself is revalidated, and a strict Content-Security-Policy allows no inline script or style.
 */

export type ConsoleConfig = Pick<Config, 'ADMIN_TOKEN' | 'ADMIN_OIDC_ISSUER' | 'ADMIN_OIDC_CLIENT_ID' | 'ADMIN_OIDC_SCOPE'>;

/** dist/console beside the compiled service (dist/src/http → dist/console), or in dist/ when run from src/. */
export function defaultConsoleDir(): string {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  return path.basename(root) === 'dist' ? path.join(root, 'console') : path.join(root, 'dist', 'console');
}

/** What the page needs to know to sign in (no secret): the credential mode and, for OIDC, the public client. */
export function consoleSettings(config: ConsoleConfig): Record<string, unknown> {
  if (config.ADMIN_OIDC_ISSUER !== undefined && config.ADMIN_OIDC_CLIENT_ID !== undefined) {
    return { auth: 'oidc', oidc: { authority: config.ADMIN_OIDC_ISSUER, clientId: config.ADMIN_OIDC_CLIENT_ID, scope: config.ADMIN_OIDC_SCOPE } };
  }
  // A pasted OIDC access token is accepted as well when OIDC is configured without a console client id.
  if (config.ADMIN_TOKEN !== undefined || config.ADMIN_OIDC_ISSUER !== undefined) return { auth: 'token' };
  return { auth: 'loopback' };
}

export function contentSecurityPolicy(config: ConsoleConfig): string {
  // The identity provider's discovery document and token endpoint are fetched by the page (PKCE).
  const idp = config.ADMIN_OIDC_ISSUER !== undefined && config.ADMIN_OIDC_CLIENT_ID !== undefined ? ` ${new URL(config.ADMIN_OIDC_ISSUER).origin}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${idp}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export function consoleRouter(deps: { config: ConsoleConfig; dir?: string }): Router {
  const dir = deps.dir ?? defaultConsoleDir();
  const csp = contentSecurityPolicy(deps.config);
  const settings = consoleSettings(deps.config);
  const router = Router();

  router.use('/console', (_req, res, next) => {
    res.setHeader('content-security-policy', csp);
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    next();
  });
  router.get('/console/config.json', (_req, res) => {
    res.setHeader('cache-control', 'no-cache');
    res.json(settings);
  });
  router.use('/console', (req, _res, next) => {
    if (!existsSync(path.join(dir, 'index.html'))) {
      next(new ServiceError('unavailable', 'The console is not built: run npm run build'));
      return;
    }
    next();
  });
  router.use(
    '/console/assets',
    express.static(path.join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      fallthrough: true,
    }),
  );
  router.use(
    '/console',
    express.static(dir, {
      index: 'index.html',
      // The page names the current hashed assets: revalidate it on every load.
      setHeaders: (res) => res.setHeader('cache-control', 'no-cache'),
      redirect: true,
    }),
  );
  return router;
}
