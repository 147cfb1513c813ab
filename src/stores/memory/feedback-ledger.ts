import type { CardLedger, CardRule, FeedbackEvent, FeedbackResult, FeedbackStore, FeedbackSummary, IssuedCard, RuleFeedback } from '../ports.js';

/**
 * Remembers which rule raised each card for a while (bounded, oldest evicted first) and counts
 * feedback per rule. Per replica and in memory: counts reset on restart; the per-event log line and
 * the metrics series are the durable record.
 */
export class FeedbackLedger implements CardLedger, FeedbackStore {
  private readonly cards = new Map<string, CardRule & { expiresAt: number }>();
  private readonly seen = new Map<string, number>();
  private readonly rules = new Map<string, RuleFeedback>();
  readonly since: string;

  constructor(
    private readonly options: { maxCards: number; ttlMs: number; now: () => Date },
  ) {
    this.since = options.now().toISOString();
  }

  async issued(cards: readonly IssuedCard[]): Promise<void> {
    const now = this.options.now().getTime();
    for (const { uuid, ...rule } of cards) {
      this.cards.set(uuid, { ...rule, expiresAt: now + this.options.ttlMs });
      this.stats(rule.ruleId, rule.ruleVersion, rule.category).shown++;
    }
    evictOldest(this.cards, this.options.maxCards);
  }

  async record(item: FeedbackEvent): Promise<FeedbackResult> {
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

  async ruleFor(cardUuid: string): Promise<CardRule | undefined> {
    const card = this.cards.get(cardUuid);
    return card && { ruleId: card.ruleId, ruleVersion: card.ruleVersion, category: card.category };
  }

  async summary(): Promise<FeedbackSummary> {
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

function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) break;
    map.delete(key);
  }
}
