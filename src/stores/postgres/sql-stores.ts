import { createHash } from 'node:crypto';
import type { Sql } from './database.js';
import type { FeedbackRecord, StoreFeedbackResult } from '../records.js';

/**
 * Stores one outcome per card in one round trip: the insert does nothing when the card already has an
 * outcome, and the same statement reads that earlier outcome (from the statement's snapshot, so it is
 * the one that was there before) to tell a harmless repeat from a conflicting second outcome.
 */
export async function recordFeedback(db: Sql, f: FeedbackRecord): Promise<StoreFeedbackResult> {
  const suggestions = [...new Set(f.acceptedSuggestions)].sort();
  const rows = await db.query<{ inserted: number; outcome: string | null; override_reason: string | null; accepted_suggestions: string[] | null }>(
    `with ins as (
       insert into feedback (card, outcome, accepted_suggestions, override_reason, has_comment, outcome_at, received_at)
       values ($1, $2, $3::text[], $4, $5, $6::timestamptz, $7::timestamptz)
       on conflict (card) do nothing
       returning 1
     )
     select (select count(*) from ins)::int as inserted, f.outcome, f.override_reason, f.accepted_suggestions
     from (select 1) as one left join feedback f on f.card = $1`,
    [f.card, f.outcome, suggestions, f.overrideReason ?? null, f.hasComment, f.outcomeAt.toISOString(), f.receivedAt.toISOString()],
  );
  const row = rows[0]!;
  if (row.inserted === 1) return 'recorded';
  const same =
    row.outcome === f.outcome &&
    (row.override_reason ?? undefined) === f.overrideReason &&
    JSON.stringify([...(row.accepted_suggestions ?? [])].sort()) === JSON.stringify(suggestions);
  return same ? 'duplicate' : 'conflict';
}

/**
 * Records a token id for its issuer until it expires: insert-if-absent in one round trip, where an
 * expired entry counts as absent. True when new; false for a replay. The jti is kept as a digest
 * (bounded size, and nothing a client chose is stored verbatim).
 */
export async function rememberJti(db: Sql, iss: string, jti: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
  const rows = await db.query(
    `insert into seen_jtis (iss, jti_sha256, expires_at) values ($1, $2, $3::timestamptz)
     on conflict (iss, jti_sha256) do update set expires_at = excluded.expires_at
       where seen_jtis.expires_at <= $4::timestamptz
     returning 1`,
    [iss, createHash('sha256').update(jti).digest('hex'), new Date(expiresAtMs).toISOString(), new Date(nowMs).toISOString()],
  );
  return rows.length === 1;
}

/** Deletes expired jtis. */
export async function purgeJtis(db: Sql, now: Date): Promise<number> {
  const rows = await db.query<{ n: number }>(
    'with d as (delete from seen_jtis where expires_at <= $1::timestamptz returning 1) select count(*)::int as n from d',
    [now.toISOString()],
  );
  return rows[0]!.n;
}

/** Rows deleted per statement, so the daily purge never holds long locks on a large table. */
const PURGE_CHUNK = 10_000;

/** Deletes cards (and their feedback) and silent firings older than the retention period. */
export async function purgeExpired(db: Sql, now: Date, retentionDays: number): Promise<{ cards: number; silentFirings: number }> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  let cards = 0;
  let silentFirings = 0;
  for (;;) {
    const rows = await db.query<{ n: number }>(
      `with d as (delete from issued_cards where uuid in (select uuid from issued_cards where issued_at < $1::timestamptz limit ${PURGE_CHUNK}) returning 1)
       select count(*)::int as n from d`,
      [cutoff],
    );
    cards += rows[0]!.n;
    if (rows[0]!.n < PURGE_CHUNK) break;
  }
  for (;;) {
    const rows = await db.query<{ n: number }>(
      `with d as (delete from silent_firings where ctid in (select ctid from silent_firings where fired_at < $1::timestamptz limit ${PURGE_CHUNK}) returning 1)
       select count(*)::int as n from d`,
      [cutoff],
    );
    silentFirings += rows[0]!.n;
    if (rows[0]!.n < PURGE_CHUNK) break;
  }
  return { cards, silentFirings };
}
