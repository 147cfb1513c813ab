import type { AnalyticsFilter, Bucket, CardRecord, FeedbackRecord, RuleAnalytics, SilentFiring, StoreFeedbackResult, TimeseriesPoint } from '../records.js';
import { bucketOf, bucketStarts, ruleAnalytics, type RuleCounts } from '../analytics-shape.js';

/**
 * The card ledger, feedback and analytics in this process's memory (tests, and the in-memory default
 * of `createApp`): bounded — past `maxCards` the oldest card goes, with its feedback, and past
 * `maxSilent` the oldest silent firing. The SQL store answers the same questions from its tables.
 */
export class MemoryLedger {
  private readonly cards = new Map<string, { card: CardRecord; feedback?: FeedbackRecord }>();
  private silent: SilentFiring[] = [];

  constructor(private readonly options: { maxCards: number; maxSilent?: number }) {}

  enqueue(cards: readonly CardRecord[], silent: readonly SilentFiring[]): void {
    for (const card of cards) if (!this.cards.has(card.uuid)) this.cards.set(card.uuid, { card });
    for (const key of this.cards.keys()) {
      if (this.cards.size <= this.options.maxCards) break;
      this.cards.delete(key);
    }
    this.silent.push(...silent);
    const maxSilent = this.options.maxSilent ?? this.options.maxCards;
    if (this.silent.length > maxSilent) this.silent = this.silent.slice(this.silent.length - maxSilent);
  }

  async find(uuid: string): Promise<CardRecord | undefined> {
    return this.cards.get(uuid)?.card;
  }

  async recordFeedback(f: FeedbackRecord): Promise<StoreFeedbackResult> {
    const entry = this.cards.get(f.card);
    if (!entry) throw new Error(`feedback for a card the ledger does not hold: ${f.card}`);
    if (!entry.feedback) {
      entry.feedback = { ...f, acceptedSuggestions: [...new Set(f.acceptedSuggestions)].sort() };
      return 'recorded';
    }
    const previous = entry.feedback;
    const same =
      previous.outcome === f.outcome &&
      previous.overrideReason === f.overrideReason &&
      JSON.stringify(previous.acceptedSuggestions) === JSON.stringify([...new Set(f.acceptedSuggestions)].sort());
    return same ? 'duplicate' : 'conflict';
  }

  async analyticsRules(filter: AnalyticsFilter): Promise<RuleAnalytics[]> {
    const byKey = new Map<string, RuleCounts>();
    const entry = (id: string, version: string, category: string): RuleCounts => {
      const key = `${id}\u0000${version}`;
      let e = byKey.get(key);
      if (!e) {
        e = { id, version, category, shown: 0, accepted: 0, overridden: 0, overrideReasons: {}, acceptedSuggestions: {}, silentFirings: 0 };
        byKey.set(key, e);
      }
      return e;
    };
    for (const { card, feedback } of this.cardsIn(filter)) {
      for (const rule of rulesOf(card)) {
        const e = entry(rule.id, rule.version, card.category);
        e.shown++;
        if (feedback?.outcome === 'accepted') {
          e.accepted++;
          for (const s of card.suggestions) {
            if (feedback.acceptedSuggestions.includes(s.uuid)) e.acceptedSuggestions[s.label] = (e.acceptedSuggestions[s.label] ?? 0) + 1;
          }
        } else if (feedback?.outcome === 'overridden') {
          e.overridden++;
          const reason = feedback.overrideReason ?? 'none';
          e.overrideReasons[reason] = (e.overrideReasons[reason] ?? 0) + 1;
        }
      }
    }
    for (const s of this.silentIn(filter)) entry(s.ruleId, s.ruleVersion, s.category).silentFirings++;
    return ruleAnalytics([...byKey.values()]);
  }

  async analyticsTimeseries(id: string, bucket: Bucket, filter: AnalyticsFilter): Promise<TimeseriesPoint[]> {
    const points = new Map(bucketStarts(bucket, filter.from, filter.to).map((start) => [start, { start, shown: 0, accepted: 0, overridden: 0, silentFirings: 0 }]));
    for (const { card, feedback } of this.cardsIn(filter)) {
      if (!rulesOf(card).some((r) => r.id === id)) continue;
      const p = points.get(bucketOf(bucket, card.issuedAt));
      if (!p) continue;
      p.shown++;
      if (feedback?.outcome === 'accepted') p.accepted++;
      if (feedback?.outcome === 'overridden') p.overridden++;
    }
    for (const s of this.silentIn(filter)) {
      const p = s.ruleId === id ? points.get(bucketOf(bucket, s.firedAt)) : undefined;
      if (p) p.silentFirings++;
    }
    return [...points.values()].map((p) => ({ ...p, start: `${p.start}T00:00:00Z` }));
  }

  private *cardsIn(f: AnalyticsFilter) {
    for (const entry of this.cards.values()) if (matches(f, entry.card.issuedAt, entry.card)) yield entry;
  }

  private silentIn(f: AnalyticsFilter): SilentFiring[] {
    return this.silent.filter((s) => matches(f, s.firedAt, s));
  }
}

function matches(f: AnalyticsFilter, at: Date, r: { service: string; client: string }): boolean {
  return (
    at >= f.from && at < f.to && (f.service === undefined || r.service === f.service) && (f.client === undefined || r.client === f.client)
  );
}

function rulesOf(card: CardRecord) {
  return [{ id: card.ruleId, version: card.ruleVersion }, ...card.also];
}
