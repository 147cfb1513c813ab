import { z } from 'zod';
import type { Card } from './response-schema.js';

/**
 * CDS Hooks feedback (shared/cds-hooks.md §7): what clinicians did with our cards, aggregated per rule
 * so informaticists can see which rules are accepted and which are overridden, and why.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

export const RULE_EXTENSION = 'org.inotrope-cds.rule';

interface IssuedCard {
  ruleId: string;
  ruleVersion: string;
  category: string;
  expiresAt: number;
}

export interface RuleFeedback {
  id: string;
  version: string;
  category: string;
  shown: number;
  accepted: number;
  overridden: number;
  /** Override reason codes as `system|code` → count. */
  overrideReasons: Record<string, number>;
}

/** What became of one feedback item: counted, already counted, or for a card this replica does not know. */
export type FeedbackResult = 'recorded' | 'duplicate' | 'unknown-card';

export interface FeedbackOutcome {
  recorded: number;
  duplicates: number;
  /** Feedback for cards this replica did not issue or no longer remembers. */
  unknownCards: number;
}

/**
 * Remembers which rule raised each card for a while (bounded, oldest evicted first) and counts
 * feedback per rule. Per replica and in memory: counts reset on restart; the per-event log line and
 * the metrics series are the durable record.
 */
export class FeedbackLedger {
  private readonly cards = new Map<string, IssuedCard>();
  private readonly seen = new Map<string, number>();
  private readonly rules = new Map<string, RuleFeedback>();
  readonly since: string;

  constructor(
    private readonly options: { maxCards: number; ttlMs: number; now: () => Date },
  ) {
    this.since = options.now().toISOString();
  }

  /** Records the cards a hook call returned so later feedback can be attributed to their rules. */
  issued(cards: readonly Card[]): void {
    const now = this.options.now().getTime();
    for (const card of cards) {
      const rule = ruleOf(card);
      if (!rule) continue;
      this.cards.set(card.uuid, { ...rule, category: card.source.topic?.code ?? 'unknown', expiresAt: now + this.options.ttlMs });
      this.stats(rule.ruleId, rule.ruleVersion, card.source.topic?.code ?? 'unknown').shown++;
    }
    evictOldest(this.cards, this.options.maxCards);
  }

  /** Applies one feedback item idempotently: the same card, outcome and timestamp count once. */
  record(item: FeedbackItem): FeedbackResult {
    const now = this.options.now().getTime();
    const key = `${item.card}|${item.outcome}|${item.outcomeTimestamp}`;
    if (this.seen.has(key)) return 'duplicate';
    const card = this.cards.get(item.card);
    if (!card || card.expiresAt < now) return 'unknown-card';
    this.seen.set(key, now);
    evictOldest(this.seen, this.options.maxCards);
    const stats = this.stats(card.ruleId, card.ruleVersion, card.category);
    if (item.outcome === 'accepted') stats.accepted++;
    else {
      stats.overridden++;
      const reason = item.overrideReason?.reason;
      const code = reason ? `${reason.system}|${reason.code}` : 'none';
      stats.overrideReasons[code] = (stats.overrideReasons[code] ?? 0) + 1;
    }
    return 'recorded';
  }

  /** The rule a remembered card came from, for logging and metrics. */
  ruleFor(cardUuid: string): { ruleId: string; ruleVersion: string; category: string } | undefined {
    const card = this.cards.get(cardUuid);
    return card && { ruleId: card.ruleId, ruleVersion: card.ruleVersion, category: card.category };
  }

  summary(): { since: string; rules: RuleFeedback[] } {
    return { since: this.since, rules: [...this.rules.values()].sort((a, b) => a.id.localeCompare(b.id)) };
  }

  private stats(id: string, version: string, category: string): RuleFeedback {
    const key = `${id}@${version}`;
    let stats = this.rules.get(key);
    if (!stats) {
      stats = { id, version, category, shown: 0, accepted: 0, overridden: 0, overrideReasons: {} };
      this.rules.set(key, stats);
    }
    return stats;
  }
}

/** Adds one item's result to a request's counts. */
export function tally(outcome: FeedbackOutcome, result: FeedbackResult): void {
  if (result === 'recorded') outcome.recorded++;
  else if (result === 'duplicate') outcome.duplicates++;
  else outcome.unknownCards++;
}

function ruleOf(card: Card): { ruleId: string; ruleVersion: string } | undefined {
  const ext = card.extension?.[RULE_EXTENSION] as { id?: unknown; version?: unknown } | undefined;
  return typeof ext?.id === 'string' && typeof ext.version === 'string' ? { ruleId: ext.id, ruleVersion: ext.version } : undefined;
}

function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) break;
    map.delete(key);
  }
}
