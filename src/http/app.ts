import { randomUUID } from 'node:crypto';
import express, { type Express, type Request, type RequestHandler } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { trimEnd } from '../shared/syntax.js';
import type { RulesetSource } from '../rules/ruleset.js';
import type { Stores } from '../stores/ports.js';
import { Metrics } from '../observability/metrics.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { cdsRouter } from './cds-routes.js';
import { healthRouter } from './health-routes.js';
import { metricsRouter } from './metrics-routes.js';
import { authenticate } from './auth/authenticate.js';
import { loadClients } from './auth/clients.js';
import { requireOperator } from './auth/operator.js';
import { rateLimiter } from './limits.js';
import { adminRouter } from './admin-routes.js';
import { consoleRouter } from './console-routes.js';
import { feedbackSummaryRouter } from './feedback-routes.js';
import { analyticsRouter } from './analytics-routes.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  rules: RulesetSource;
  /** What the service remembers: issued cards, feedback, seen jtis (built by the caller, e.g. `memoryStores`). */
  stores: Stores;
  /** Prometheus series; one registry per app (default: a fresh one without process metrics). */
  metrics?: Metrics;
  /** Injected so tests are deterministic; default wall clock and random uuids. */
  now?: () => Date;
  uuid?: () => string;
  /** The built console (default dist/console) and the playground's example requests (default ./examples). */
  consoleDir?: string;
  examplesDir?: string;
}

const REQUEST_ID = /^[A-Za-z0-9\-_.]{1,64}$/;

/** Builds the Express app without listening, so tests drive the real app in-process. */
export function createApp(deps: AppDeps): Express {
  const { config, logger, stores } = deps;
  const metrics = deps.metrics ?? new Metrics();
  metrics.trackRulesetVersion(() => deps.rules.status().version);
  const app = express();
  app.disable('x-powered-by');
  // No ETag: a POST answer is not cacheable (RFC 9110 §9.3.3) and every hook answer carries fresh card
  // uuids, so hashing each body would be CPU spent for nothing.
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(requestLog(logger, metrics));
  app.use(helmet());
  // Browser-based CDS clients (the sandbox) call discovery, services and feedback cross-origin;
  // preflight carries no Authorization header, so CORS runs before any authentication. Only there:
  // no other route is for a browser page on another origin (docs/security.md, "Who can call").
  app.use(
    '/cds-services',
    cors({
      origin: config.CORS_ORIGINS.includes('*') ? '*' : config.CORS_ORIGINS,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      maxAge: 600,
    }),
  );

  const now = deps.now ?? (() => new Date());
  // Admin routes (GET /feedback now; /admin/*, /analytics/* and console data) sit behind this one guard.
  const operator = requireOperator({ config, now });
  app.use(healthRouter(deps));
  app.use(['/feedback', '/analytics'], operator);
  app.use(feedbackSummaryRouter({ stores, now, retentionDays: config.RETENTION_DAYS }));
  app.use(analyticsRouter({ stores, now }));
  // The console's page and assets carry no data; everything it shows comes from the guarded routes.
  app.use(consoleRouter({ config, ...(deps.consoleDir !== undefined && { dir: deps.consoleDir }) }));
  app.use(adminRouter({ config, rules: deps.rules, operator, now, ...(deps.examplesDir !== undefined && { examplesDir: deps.examplesDir }) }));
  if (config.METRICS_ENABLED === 'on') app.use(metricsRouter(metrics));
  // Everything under /cds-services (discovery, services, feedback) needs a client JWT unless CDS_AUTH=off;
  // the clients file is read here so a bad one stops start-up. The rate limit runs between verifying the
  // token and remembering its jti (authenticate.ts says why).
  const clients = config.CDS_AUTH === 'on' ? loadClients(config.CDS_CLIENTS_FILE!) : undefined;
  const auth = clients ? authenticate({ config, clients, jtis: stores.jtis, now, onFailure: (reason) => metrics.authFailure(reason) }) : undefined;
  // What an operator checks first when every call is refused: whether auth is on, who is trusted, which `aud` is expected.
  if (clients) {
    logger.info(
      { auth: 'on', trustedClients: clients.length, audBase: `${trimEnd(config.PUBLIC_BASE_URL!, '/')}/cds-services` },
      'authentication on: client JWTs must carry aud = audBase + the path called',
    );
  } else {
    logger.warn({ auth: 'off', trustedClients: 0 }, 'CDS_AUTH=off: client JWTs are not checked. Use this only for local development.');
  }
  if (auth) app.use('/cds-services', auth.verify);
  app.use('/cds-services', rateLimiter(config));
  if (auth) app.use('/cds-services', auth.remember);
  app.use(cdsRouter({ ...deps, metrics, now, uuid: deps.uuid ?? randomUUID }));
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}

/**
 * One log line per request (id, route, status, duration and whatever safe fields the handler added)
 * and one request-duration observation, labelled by route template so no path content becomes a label.
 * The template is the matched route's path, read once when the response is finished: Express keeps
 * `req.route` after the router is left (an error handled at the app level), while `req.baseUrl` is
 * restored by then, so every router is mounted at the root and declares its full paths.
 */
function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return function requestLog(req, res, next) {
    const header = req.get('x-request-id');
    const reqId = header && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader('x-request-id', reqId);
    res.locals.logFields = {};
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : 'info';
      const route = routeTemplate(req);
      metrics.observeRequest(req.method, route, res.statusCode, durationMs / 1000);
      logger[level](
        {
          reqId,
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Math.round(durationMs * 100) / 100,
          ...(res.locals.logFields as Record<string, unknown>),
        },
        'request',
      );
    });
    next();
  };
}

/** The matched route's path (`/cds-services/:id`), never the request's own path; `unmatched` when none matched. */
function routeTemplate(req: Request): string {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : 'unmatched';
}
