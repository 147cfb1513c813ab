import { z } from 'zod';
import { RULE_EXTENSION, type Card } from '../shared/card.js';
import { UUID } from '../shared/syntax.js';
import type { EvaluationResult } from '../rules/ruleset.js';
import { suggestionTemplateLabel } from '../cards/build-card.js';
import type { CardRecord, FeedbackRecord, FeedbackResult, RuleRef, SilentFiring, Stores } from '../stores/ports.js';

export type { FeedbackResult };

/**
 * CDS Hooks feedback (https://cds-hooks.hl7.org/2.0/#feedback): what clinicians did with our cards, attributed to the
 * rule that raised each card so informaticists can see which rules are accepted and which are
 * overridden, and why. Only the client that received a card, on the endpoint of the service that
 * issued it, can give its outcome, once; everything else is reported per reason and not counted.
 */

/** Field caps: a feedback request is small; anything longer is malformed (400), never stored or logged. */
export const FEEDBACK_LIMITS = { suggestions: 20, id: 64, code: 64, system: 256, display: 256, comment: 4_000 } as const;

const feedbackItemSchema = z
  .looseObject({
    card: z.string().regex(UUID, 'must be the uuid of a card'),
    outcome: z.enum(['accepted', 'overridden']),
    acceptedSuggestions: z
      .array(z.looseObject({ id: z.string().min(1).max(FEEDBACK_LIMITS.id) }))
      .max(FEEDBACK_LIMITS.suggestions)
      .optional(),
    overrideReason: z
      .looseObject({
        reason: z
          .looseObject({
            code: z.string().min(1).max(FEEDBACK_LIMITS.code),
            system: z.string().min(1).max(FEEDBACK_LIMITS.system),
            display: z.string().max(FEEDBACK_LIMITS.display).optional(),
          })
          .optional(),
        userComment: z.string().max(FEEDBACK_LIMITS.comment).optional(),
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

export { RULE_EXTENSION };

/** The response body: how many items each result had. */
export interface FeedbackTallies {
  recorded: number;
  /** The same outcome again for a card (idempotent). */
  duplicates: number;
  /** A different outcome for a card that already has one: the first stands. */
  conflicts: number;
  /** Cards the service never issued (or past retention). */
  unknownCards: number;
  /** Cards issued to another CDS client. */
  otherClient: number;
  /** Cards issued by another service (feedback must go to the issuing service's endpoint). */
  otherService: number;
  /** acceptedSuggestions naming a suggestion the card did not carry. */
  unknownSuggestions: number;
}

const TALLY: Record<FeedbackResult, keyof FeedbackTallies> = {
  recorded: 'recorded',
  duplicate: 'duplicates',
  conflict: 'conflicts',
  'unknown-card': 'unknownCards',
  'other-client': 'otherClient',
  'other-service': 'otherService',
  'unknown-suggestion': 'unknownSuggestions',
};

export function emptyTallies(): FeedbackTallies {
  return { recorded: 0, duplicates: 0, conflicts: 0, unknownCards: 0, otherClient: 0, otherService: 0, unknownSuggestions: 0 };
}

export function tally(tallies: FeedbackTallies, result: FeedbackResult): void {
  tallies[TALLY[result]]++;
}

/** Who sent the feedback: the authenticated client's iss ('' with CDS_AUTH=off) and the service endpoint. */
export interface FeedbackContext {
  client: string;
  service: string;
  receivedAt: Date;
}

/**
 * Applies one item. The override reason is kept only as one the card offered (`system|code`), else
 * `other`; the comment only as whether one was given (clinicians type patient details into it).
 */
export async function applyFeedback(
  stores: Pick<Stores, 'cards' | 'feedback'>,
  item: FeedbackItem,
  ctx: FeedbackContext,
): Promise<{ result: FeedbackResult; card?: CardRecord; overrideReason?: string }> {
  const card = await stores.cards.find(item.card.toLowerCase());
  if (!card) return { result: 'unknown-card' };
  if (card.client !== ctx.client) return { result: 'other-client', card };
  if (card.service !== ctx.service) return { result: 'other-service', card };
  const accepted = item.outcome === 'accepted' ? (item.acceptedSuggestions ?? []).map((s) => s.id.toLowerCase()) : [];
  if (accepted.some((id) => !card.suggestions.some((s) => s.uuid === id))) return { result: 'unknown-suggestion', card };
  const reason = item.outcome === 'overridden' ? item.overrideReason?.reason : undefined;
  const overrideReason = reason === undefined ? undefined : offered(card, `${reason.system}|${reason.code}`);
  const record: FeedbackRecord = {
    card: card.uuid,
    outcome: item.outcome,
    acceptedSuggestions: accepted,
    ...(overrideReason !== undefined && { overrideReason }),
    hasComment: (item.overrideReason?.userComment?.trim().length ?? 0) > 0,
    outcomeAt: new Date(item.outcomeTimestamp),
    receivedAt: ctx.receivedAt,
  };
  return { result: await stores.feedback.record(record), card, ...(overrideReason !== undefined && { overrideReason }) };
}

function offered(card: CardRecord, reason: string): string {
  return card.overrideReasons.includes(reason) ? reason : 'other';
}

/** Where a hook call's cards came from, as the ledger records them. */
export interface IssueContext {
  service: string;
  hook: string;
  client: string;
  rulesetVersion: string;
  issuedAt: Date;
}

/** The cards a hook call returned that name their rule, as the card ledger records them (no patient data). */
export function cardRecords(cards: readonly Card[], ctx: IssueContext): CardRecord[] {
  return cards.flatMap((card) => {
    const ext = card.extension?.[RULE_EXTENSION] as { id?: unknown; version?: unknown; also?: unknown } | undefined;
    if (typeof ext?.id !== 'string' || typeof ext.version !== 'string') return [];
    return [
      {
        uuid: card.uuid.toLowerCase(),
        ruleId: ext.id,
        ruleVersion: ext.version,
        also: alsoRules(ext.also),
        rulesetVersion: ctx.rulesetVersion,
        service: ctx.service,
        hook: ctx.hook,
        client: ctx.client,
        category: card.source.topic?.code ?? 'unknown',
        indicator: card.indicator,
        suggestions: (card.suggestions ?? []).map((s) => ({ uuid: s.uuid.toLowerCase(), label: suggestionTemplateLabel(s) })),
        overrideReasons: (card.overrideReasons ?? []).map((r) => `${r.system}|${r.code}`),
        issuedAt: ctx.issuedAt,
      },
    ];
  });
}

/** The silent rules that fired in a hook call (no card). */
export function silentFirings(fired: EvaluationResult['fired'], ctx: IssueContext): SilentFiring[] {
  return fired
    .filter((f) => f.status === 'silent')
    .map((f) => ({ ruleId: f.id, ruleVersion: f.version, category: f.category, service: ctx.service, client: ctx.client, firedAt: ctx.issuedAt }));
}

/** The `also` rules of a reconciled card: `{id, version}` objects (or bare ids, version unknown). */
function alsoRules(also: unknown): RuleRef[] {
  if (!Array.isArray(also)) return [];
  return also.flatMap((a: unknown): RuleRef[] => {
    if (typeof a === 'string') return [{ id: a, version: 'unknown' }];
    const r = a as { id?: unknown; version?: unknown } | null;
    return typeof r?.id === 'string' ? [{ id: r.id, version: typeof r.version === 'string' ? r.version : 'unknown' }] : [];
  });
}
