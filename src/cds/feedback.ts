import { z } from 'zod';
import { ruleOf, type Card } from '../shared/card.js';
import { UUID } from '../shared/syntax.js';
import type { FeedbackResult, IssuedCard } from '../stores/ports.js';

/**
 * CDS Hooks feedback (https://cds-hooks.hl7.org/2.0/#feedback): what clinicians did with our cards, aggregated per rule
 * so informaticists can see which rules are accepted and which are overridden, and why.
 */

const feedbackItemSchema = z
  .looseObject({
    card: z.string().regex(UUID, 'must be the uuid of a card'),
    outcome: z.enum(['accepted', 'overridden']),
    acceptedSuggestions: z.array(z.looseObject({ id: z.string().min(1) })).optional(),
    overrideReason: z
      .looseObject({
        reason: z.looseObject({ code: z.string().min(1), system: z.string().min(1), display: z.string().optional() }).optional(),
        userComment: z.string().optional(),
      })
      .optional(),
    outcomeTimestamp: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' }),
  })
  .refine((f) => f.outcome !== 'accepted' || (f.acceptedSuggestions?.length ?? 0) > 0, {
    message: 'acceptedSuggestions is required when the outcome is accepted',
    path: ['acceptedSuggestions'],
  });

export const feedbackRequestSchema = z.looseObject({ feedback: z.array(feedbackItemSchema).min(1).max(100) });
export type FeedbackItem = z.infer<typeof feedbackItemSchema>;

export interface FeedbackOutcome {
  recorded: number;
  duplicates: number;
  /** Feedback for cards this replica did not issue or no longer remembers. */
  unknownCards: number;
}

/** The cards a hook call returned that name their rule, as the card ledger records them. */
export function issuedCards(cards: readonly Card[]): IssuedCard[] {
  return cards.flatMap((card) => {
    const rule = ruleOf(card);
    return rule ? [{ uuid: card.uuid, ruleId: rule.id, ruleVersion: rule.version, category: card.source.topic?.code ?? 'unknown' }] : [];
  });
}

/** Adds one item's result to a request's counts. */
export function tally(outcome: FeedbackOutcome, result: FeedbackResult): void {
  if (result === 'recorded') outcome.recorded++;
  else if (result === 'duplicate') outcome.duplicates++;
  else outcome.unknownCards++;
}
