import express, { Router, type RequestHandler } from 'express';
import { fhirLimits, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { RulesetSource } from '../rules/ruleset.js';
import type { HookOutcomeLabel, Metrics } from '../observability/metrics.js';
import { discoveryServices } from '../cds/services.js';
import { findService } from '../cds/hooks/registry.js';
import { runHook, validateCall, type HookOutcome } from '../cds/handle-hook.js';
import { cardRecords, silentFirings, type IssueContext } from '../cds/feedback.js';
import type { Stores } from '../stores/ports.js';
import { notFound, ServiceError } from '../shared/errors.js';
import { authenticatedClient } from './auth/authenticate.js';
import { jsonLimits } from './limits.js';
import { feedbackHandler } from './feedback-routes.js';

export interface CdsRouterDeps {
  config: Config;
  logger: Logger;
  rules: RulesetSource;
  metrics: Metrics;
  stores: Stores;
  now: () => Date;
  uuid: () => string;
}

/** `GET /cds-services` (discovery), `POST /cds-services/{id}` (service calls) and `POST /cds-services/{id}/feedback`. */
export function cdsRouter(deps: CdsRouterDeps): Router {
  const { config } = deps;
  // Mounted at the root with full paths: the request log labels by the matched route's path (app.ts).
  const router = Router();
  const json = express.json({ limit: config.BODY_LIMIT_BYTES, type: () => true, strict: true });

  router.get('/cds-services/', (_req, res) => {
    res.json({ services: discoveryServices(deps.rules.current()) });
  });

  // authenticate (app-level) → validate → the hook's use-case → log and metrics → send; errors go to the error handler.
  router.post('/cds-services/:id', requireService, requireJson, json, jsonLimits(config), async (req, res) => {
    const hook = findService(String(req.params.id))!;
    // With CDS_AUTH=off there is no client, and the global allowlist applies in the data layer.
    const client = authenticatedClient(res);
    const request = validateCall(hook, req.body, client?.fhirServers);
    Object.assign(res.locals.logFields as object, { service: hook.service.id, hook: hook.hook, hookInstance: request.hookInstance });
    const ruleset = deps.rules.current();
    const start = process.hrtime.bigint();
    let hookOutcome: HookOutcomeLabel = 'error';
    try {
      const outcome = await withTimeout(
        runHook(hook, request, ruleset, {
          data: {
            fhirServerAllowlist: client ? client.fhirServers : config.FHIR_SERVER_ALLOWLIST,
            ...fhirLimits(config),
            logger: deps.logger,
          },
          now: deps.now,
          uuid: deps.uuid,
          timeZone: config.DISPLAY_TIME_ZONE,
        }),
        config.REQUEST_TIMEOUT_MS,
      );
      hookOutcome = 'ok';
      deps.metrics.recordFetches(outcome.fetches);
      deps.metrics.recordFirings(hook.service.id, outcome.fired, outcome.response.cards);
      deps.metrics.ruleErrors(outcome.failed);
      // Rule id and the error's type only: an error message may quote the record it choked on.
      for (const f of outcome.failed) deps.logger.error({ rule: f.id, version: f.version, errorType: f.error instanceof Error ? f.error.name : typeof f.error }, 'rule failed and was isolated');
      Object.assign(res.locals.logFields as object, outcome.stats);
      recordIssued(deps, outcome, { service: hook.service.id, hook: hook.hook, client: client?.iss ?? '', rulesetVersion: ruleset.version, issuedAt: deps.now() });
      res.json(outcome.response);
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'precondition-failed') hookOutcome = 'data-unavailable';
      if (err instanceof ServiceError && err.code === 'timeout') hookOutcome = 'timeout';
      throw err;
    } finally {
      deps.metrics.observeHook(hook.service.id, hookOutcome, Number(process.hrtime.bigint() - start) / 1e9);
    }
  });

  router.post('/cds-services/:id/feedback', requireService, requireJson, json, jsonLimits(config), feedbackHandler(deps));

  // A known service answers only POST; anything else under it is not a route (spec: 404).
  router.all('/cds-services/:id', (req, _res, next) => {
    next(notFound(`No route ${req.method} ${req.originalUrl.split('?')[0]}`));
  });
  return router;
}

/** Hands the cards and silent firings to the ledger; bookkeeping never holds back or fails a hook's answer. */
function recordIssued(deps: CdsRouterDeps, outcome: HookOutcome, ctx: IssueContext): void {
  try {
    deps.stores.cards.issued(cardRecords(outcome.response.cards, ctx), silentFirings(outcome.fired, ctx));
  } catch (err) {
    deps.logger.error({ err: (err as Error).message }, 'card ledger: could not record a hook call');
  }
}

const requireService: RequestHandler = function requireService(req, _res, next) {
  if (!findService(String(req.params.id))) {
    next(notFound(`Unknown CDS service: ${String(req.params.id).slice(0, 80)}`));
    return;
  }
  next();
};

const requireJson: RequestHandler = function requireJson(req, _res, next) {
  if (!req.is(['application/json', 'application/*+json'])) {
    next(new ServiceError('unsupported-media-type', 'Send the request body as application/json'));
    return;
  }
  next();
};

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ServiceError('timeout', 'The service could not answer in time')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
