import { Router, type RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { applyFeedback, emptyTallies, feedbackRequestSchema, tally } from '../cds/feedback.js';
import type { Stores } from '../stores/ports.js';
import type { Metrics } from '../observability/metrics.js';
import { invalidRequest, ServiceError } from '../shared/errors.js';
import { jsonPointer } from '../shared/syntax.js';
import { authenticatedClient } from './auth/authenticate.js';

/**
 * `POST /cds-services/{id}/feedback` (CDS Hooks §Feedback): what the clinician did with our cards.
 * Mounted inside the CDS router, so the same client authentication and body limits apply. 200 with
 * per-reason tallies unless the request is malformed (400) or the store cannot answer (503: nothing
 * was lost, the client may send it again).
 */
export function feedbackHandler(deps: { stores: Stores; logger: Logger; metrics: Metrics; now: () => Date }): RequestHandler {
  return async function feedbackHandler(req, res) {
    const parsed = feedbackRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      const pointer = jsonPointer(first.path);
      throw invalidRequest(`Invalid feedback: ${pointer || '/'} ${first.message}`, pointer);
    }
    const ctx = { client: authenticatedClient(res)?.iss ?? '', service: String(req.params.id), receivedAt: deps.now() };
    const tallies = emptyTallies();
    for (const item of parsed.data.feedback) {
      let applied;
      try {
        applied = await applyFeedback(deps.stores, item, ctx);
      } catch {
        // Items before this one are stored; a repeat of the whole request counts them as duplicates.
        throw new ServiceError('unavailable', 'Feedback cannot be stored right now; send it again later');
      }
      tally(tallies, applied.result);
      const rule = applied.card?.ruleId ?? 'unknown';
      deps.metrics.cardFeedback(rule, item.outcome, applied.result);
      // Bounded and sanitised: the client's iss (a configured issuer), our own ids, and the override
      // reason only as one the card offered (else `other`); never the comment or any client-chosen code.
      deps.logger.info(
        {
          client: ctx.client || undefined,
          service: ctx.service,
          card: applied.card?.uuid,
          rule,
          ruleVersion: applied.card?.ruleVersion,
          outcome: item.outcome,
          result: applied.result,
          overrideReason: applied.overrideReason,
        },
        'card feedback',
      );
    }
    Object.assign(res.locals.logFields as object, tallies);
    res.json(tallies);
  };
}

/**
 * `GET /feedback`: per-rule counts (cards shown, accepted, overridden, override reasons) over the
 * retention period, the summary the analytics endpoints detail. An operator route.
 */
export function feedbackSummaryRouter(deps: { stores: Stores; now: () => Date; retentionDays: number }): Router {
  const router = Router();
  router.get('/feedback', async (_req, res) => {
    const to = deps.now();
    const from = new Date(to.getTime() - deps.retentionDays * 86_400_000);
    let rules;
    try {
      rules = await deps.stores.analytics.rules({ from, to: new Date(to.getTime() + 1) });
    } catch {
      throw new ServiceError('unavailable', 'Feedback cannot be read right now; try again later');
    }
    res.json({ since: from.toISOString(), rules });
  });
  return router;
}
