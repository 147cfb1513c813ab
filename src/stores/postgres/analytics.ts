import type { Sql } from './database.js';
import type { AnalyticsFilter, Bucket, RuleAnalytics, TimeseriesPoint } from '../records.js';
import { bucketStarts, ruleAnalytics, type RuleCounts } from '../analytics-shape.js';

/**
 * The cards in the window, once per rule they stand for: the rule that raised them and, for a
 * reconciled card, each of its `also` rules. Feedback is attributed to the card's issue time, so
 * shown = accepted + overridden + noFeedback holds within any window.
 */
const WINDOW_CARDS = `
  window_cards as (
    select c.uuid, c.rule_id, c.rule_version, c.category, c.issued_at
    from issued_cards c
    where c.issued_at >= $1::timestamptz and c.issued_at < $2::timestamptz
      and ($3::text is null or c.service = $3) and ($4::text is null or c.client = $4)
      and ($5::text is null or c.rule_id = $5)
    union all
    select c.uuid, a->>'id', a->>'version', c.category, c.issued_at
    from issued_cards c cross join lateral jsonb_array_elements(c.also) a
    where c.also <> '[]'::jsonb and c.issued_at >= $1::timestamptz and c.issued_at < $2::timestamptz
      and ($3::text is null or c.service = $3) and ($4::text is null or c.client = $4)
      and ($5::text is null or a->>'id' = $5)
  )`;

const SILENT_WHERE = `fired_at >= $1::timestamptz and fired_at < $2::timestamptz
  and ($3::text is null or service = $3) and ($4::text is null or client = $4)`;

export async function analyticsRules(db: Sql, filter: AnalyticsFilter): Promise<RuleAnalytics[]> {
  const params = [filter.from.toISOString(), filter.to.toISOString(), filter.service ?? null, filter.client ?? null, null];
  type Key = { rule_id: string; rule_version: string };
  const [totals, reasons, suggestions, silent] = await Promise.all([
    db.query<Key & { category: string; shown: number; accepted: number; overridden: number }>(
      `with ${WINDOW_CARDS}
       select k.rule_id, k.rule_version, min(k.category) as category, count(*)::int as shown,
              (count(*) filter (where f.outcome = 'accepted'))::int as accepted,
              (count(*) filter (where f.outcome = 'overridden'))::int as overridden
       from window_cards k left join feedback f on f.card = k.uuid
       group by k.rule_id, k.rule_version`,
      params,
    ),
    db.query<Key & { reason: string; n: number }>(
      `with ${WINDOW_CARDS}
       select k.rule_id, k.rule_version, coalesce(f.override_reason, 'none') as reason, count(*)::int as n
       from window_cards k join feedback f on f.card = k.uuid
       where f.outcome = 'overridden'
       group by 1, 2, 3`,
      params,
    ),
    db.query<Key & { label: string; n: number }>(
      `with ${WINDOW_CARDS}
       select k.rule_id, k.rule_version, s->>'label' as label, count(*)::int as n
       from window_cards k
         join feedback f on f.card = k.uuid and f.outcome = 'accepted'
         join issued_cards c on c.uuid = k.uuid
         cross join lateral jsonb_array_elements(c.suggestions) s
       where s->>'uuid' = any(f.accepted_suggestions)
       group by 1, 2, 3`,
      params,
    ),
    db.query<Key & { category: string; n: number }>(
      `select rule_id, rule_version, min(category) as category, count(*)::int as n
       from silent_firings where ${SILENT_WHERE}
       group by 1, 2`,
      params.slice(0, 4),
    ),
  ]);
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
  for (const t of totals) Object.assign(entry(t.rule_id, t.rule_version, t.category), { shown: t.shown, accepted: t.accepted, overridden: t.overridden });
  for (const r of reasons) entry(r.rule_id, r.rule_version, 'unknown').overrideReasons[r.reason] = r.n;
  for (const s of suggestions) entry(s.rule_id, s.rule_version, 'unknown').acceptedSuggestions[s.label] = s.n;
  for (const s of silent) entry(s.rule_id, s.rule_version, s.category).silentFirings = s.n;
  return ruleAnalytics([...byKey.values()]);
}

export async function analyticsTimeseries(
  db: Sql,
  id: string,
  bucket: Bucket,
  filter: AnalyticsFilter,
): Promise<TimeseriesPoint[]> {
  const params = [filter.from.toISOString(), filter.to.toISOString(), filter.service ?? null, filter.client ?? null, id, bucket];
  // Bucket starts as UTC dates (text, so no driver reads a zone-less timestamp in local time).
  const [cards, silent] = await Promise.all([
    db.query<{ start: string; shown: number; accepted: number; overridden: number }>(
      `with ${WINDOW_CARDS}
       select to_char(date_trunc($6, k.issued_at at time zone 'UTC'), 'YYYY-MM-DD') as start, count(*)::int as shown,
              (count(*) filter (where f.outcome = 'accepted'))::int as accepted,
              (count(*) filter (where f.outcome = 'overridden'))::int as overridden
       from window_cards k left join feedback f on f.card = k.uuid
       where k.rule_id = $5
       group by 1`,
      params,
    ),
    db.query<{ start: string; n: number }>(
      `select to_char(date_trunc($6, fired_at at time zone 'UTC'), 'YYYY-MM-DD') as start, count(*)::int as n
       from silent_firings where ${SILENT_WHERE} and rule_id = $5
       group by 1`,
      params,
    ),
  ]);
  const points = new Map(
    bucketStarts(bucket, filter.from, filter.to).map((start) => [start, { start, shown: 0, accepted: 0, overridden: 0, silentFirings: 0 }]),
  );
  for (const c of cards) Object.assign(points.get(c.start) ?? {}, { shown: c.shown, accepted: c.accepted, overridden: c.overridden });
  for (const s of silent) {
    const p = points.get(s.start);
    if (p) p.silentFirings = s.n;
  }
  return [...points.values()].map((p) => ({ ...p, start: `${p.start}T00:00:00Z` }));
}
