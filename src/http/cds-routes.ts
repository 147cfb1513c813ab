import express, { Router, type RequestHandler } from 'express';
import { fhirLimits, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { RulesetSource } from '../rules/ruleset.js';
import type { HookOutcomeLabel, Metrics } from '../observability/metrics.js';
import { parseHookRequest } from '../cds/request-schema.js';
import { discoveryServices, findService } from '../cds/services.js';
import { handleHook } from '../cds/handle-hook.js';
import { DataUnavailableError } from '../patient-data/resolve.js';
import { badRequest, HttpError, notFound, preconditionFailed } from './errors.js';
import { jsonPointer } from '../shared/syntax.js';
import { authenticatedClient } from './auth/authenticate.js';
import { clientMayUseServer } from './auth/clients.js';
import { jsonLimits } from './limits.js';
import { issuedCards } from '../cds/feedback.js';
import type { CardLedger, FeedbackStore } from '../stores/ports.js';
import { feedbackHandler } from './feedback-routes.js';

export interface CdsRouterDeps {
  config: Config;
  logger: Logger;
  rules: RulesetSource;
  metrics: Metrics;
  cards: CardLedger;
  feedback: FeedbackStore;
  now: () => Date;
  uuid: () => string;
}

/** `GET /cds-services` (discovery), `POST /cds-services/{id}` (service calls) and `POST /cds-services/{id}/feedback`. */
export function cdsRouter(deps: CdsRouterDeps): Router {
  const { config } = deps;
  const router = Router();
  const json = express.json({ limit: config.BODY_LIMIT_BYTES, type: () => true, strict: true });

  router.get('/', (_req, res) => {
    res.json({ services: discoveryServices(deps.rules.current()) });
  });

  router.post('/:id', requireService, requireJson, json, jsonLimits(config), async (req, res) => {
    const service = findService(String(req.params.id))!;
    const parsed = parseHookRequest(req.body, service.hook);
    if (!parsed.ok) {
      const first = parsed.issues[0]!;
      const pointer = jsonPointer(first.path);
      throw badRequest(
        `Invalid request: ${pointer || '/'} ${first.message}`,
        pointer,
        parsed.issues.slice(0, 20).map((i) => `${jsonPointer(i.path) || '/'}: ${i.message}`),
      );
    }
    const request = parsed.request;
    // An authenticated client may name only its own FHIR servers: refused before anything is fetched,
    // so the EHR's access token is never sent elsewhere. With CDS_AUTH=off the global allowlist applies.
    const client = authenticatedClient(res);
    if (client && request.fhirServer !== undefined && !clientMayUseServer(client, request.fhirServer)) {
      throw new HttpError(403, 'forbidden', 'fhirServer is not one of the FHIR servers configured for this CDS client', {
        pointer: '/fhirServer',
      });
    }
    Object.assign(res.locals.logFields as object, { service: service.id, hook: service.hook, hookInstance: request.hookInstance });
    const ruleset = deps.rules.current();
    const start = process.hrtime.bigint();
    let hookOutcome: HookOutcomeLabel = 'error';
    try {
      const outcome = await withTimeout(
        handleHook(request, ruleset, {
          data: {
            fhirServerAllowlist: client ? client.fhirServers : config.FHIR_SERVER_ALLOWLIST,
            ...fhirLimits(config),
            logger: deps.logger,
          },
          now: deps.now,
          uuid: deps.uuid,
        }),
        config.REQUEST_TIMEOUT_MS,
      );
      hookOutcome = 'ok';
      deps.metrics.recordFetches(outcome.fetches);
      deps.metrics.recordFirings(service.id, outcome.fired);
      Object.assign(res.locals.logFields as object, outcome.stats);
      await deps.cards.issued(issuedCards(outcome.response.cards));
      res.json(outcome.response);
    } catch (err) {
      if (err instanceof DataUnavailableError) {
        hookOutcome = 'data-unavailable';
        throw preconditionFailed(err.message, err.details);
      }
      if (err instanceof HttpError && err.code === 'timeout') hookOutcome = 'timeout';
      throw err;
    } finally {
      deps.metrics.observeHook(service.id, hookOutcome, Number(process.hrtime.bigint() - start) / 1e9);
    }
  });

  router.post('/:id/feedback', requireService, requireJson, json, jsonLimits(config), feedbackHandler(deps));

  // A known service answers only POST; anything else under it is not a route (spec: 404).
  router.all('/:id', (req, _res, next) => {
    next(notFound(`No route ${req.method} ${req.originalUrl.split('?')[0]}`));
  });
  return router;
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
    next(new HttpError(415, 'unsupported-media-type', 'Send the request body as application/json'));
    return;
  }
  next();
};

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new HttpError(503, 'timeout', 'The service could not answer in time')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
