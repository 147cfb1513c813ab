import { Router, type RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { feedbackRequestSchema, tally, type FeedbackOutcome } from '../cds/feedback.js';
import type { CardLedger, FeedbackStore } from '../stores/ports.js';
import type { Metrics } from '../observability/metrics.js';
import { invalidRequest } from '../shared/errors.js';
import { jsonPointer } from '../shared/syntax.js';

/**
 * `POST /cds-services/{id}/feedback` (CDS Hooks §Feedback): what the clinician did with our cards.
 * Mounted inside the CDS router, so the same client authentication and body limits apply.
 */
export function feedbackHandler(deps: { cards: CardLedger; feedback: FeedbackStore; logger: Logger; metrics: Metrics }): RequestHandler {
  return async function feedbackHandler(req, res) {
    const parsed = feedbackRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      const pointer = jsonPointer(first.path);
      throw invalidRequest(`Invalid feedback: ${pointer || '/'} ${first.message}`, pointer);
    }
    const outcome: FeedbackOutcome = { recorded: 0, duplicates: 0, unknownCards: 0 };
    // One line and one metric sample per feedback item with the rule it concerns; the clinician's
    // free-text comment is never logged.
    for (const item of parsed.data.feedback) {
      const rule = await deps.cards.ruleFor(item.card);
      const result = await deps.feedback.record(item);
      tally(outcome, result);
      deps.metrics.cardFeedback(rule?.ruleId ?? 'unknown', item.outcome, result);
      deps.logger.info(
        {
          service: String(req.params.id),
          rule: rule?.ruleId ?? 'unknown',
          ruleVersion: rule?.ruleVersion,
          outcome: item.outcome,
          overrideReason: item.overrideReason?.reason?.code,
        },
        'card feedback',
      );
    }
    Object.assign(res.locals.logFields as object, outcome);
    res.json(outcome);
  };
}

/** `GET /feedback`: per-rule counts of cards shown, accepted and overridden, with override reasons. */
export function feedbackSummaryRouter(feedback: FeedbackStore): Router {
  const router = Router();
  router.get('/feedback', async (_req, res) => {
    res.json(await feedback.summary());
  });
  return router;
}
