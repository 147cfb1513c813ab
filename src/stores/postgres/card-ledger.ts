import type { Sql } from './database.js';
import type { CardRecord, SilentFiring } from '../records.js';
import type { StoreEvents, StoreHealth } from './store-health.js';

export interface LedgerOptions {
  /** Most records (cards and silent firings) waiting to be written; past it the newest are counted as a gap. */
  queueMax: number;
  /** Most records written in one statement. */
  batchMax: number;
  /** How long a record may wait before its batch is written. */
  flushMs: number;
}

/**
 * The card ledger in SQL, written off the request path: a hook call enqueues its cards and returns; a
 * timer writes them in batches (one statement per batch). When the database is down the batch stays
 * queued and is retried, so a short outage loses nothing; only a full queue drops records, and those
 * are counted (metric and log) as a gap. Feedback for a card still queued here writes the queue first,
 * so an acknowledged outcome never refers to a card that is not stored.
 */
export class SqlCardLedger {
  private cards: CardRecord[] = [];
  private silent: SilentFiring[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: Sql,
    private readonly options: LedgerOptions,
    private readonly events: StoreEvents,
    private readonly health: StoreHealth,
  ) {}

  /** Enqueues one hook call's cards and silent firings; never waits for the database. */
  enqueue(cards: readonly CardRecord[], silent: readonly SilentFiring[]): void {
    const room = this.closed ? 0 : Math.max(0, this.options.queueMax - this.pending());
    const keptCards = Math.min(cards.length, room);
    const keptSilent = Math.min(silent.length, room - keptCards);
    for (let i = 0; i < keptCards; i++) this.cards.push(cards[i]!);
    for (let i = 0; i < keptSilent; i++) this.silent.push(silent[i]!);
    const dropped = cards.length + silent.length - keptCards - keptSilent;
    if (dropped > 0) this.events.ledgerGap(dropped, this.closed ? 'shutdown' : 'queue-full');
    this.events.ledgerQueue(this.pending());
    if (this.pending() >= this.options.batchMax) void this.flush();
    else this.schedule();
  }

  /** A card by uuid: queued here, else stored. */
  async find(uuid: string): Promise<CardRecord | undefined> {
    // A linear scan: the queue holds about LEDGER_FLUSH_MS of cards, and feedback is rare next to hook calls.
    if (this.isQueued(uuid)) {
      await this.flush();
      // Still queued: the database is down; the card is known but cannot be referenced yet.
      if (this.isQueued(uuid)) throw new Error('store unavailable: the card is not written yet');
    }
    const rows = await this.db.query<CardRow>(`select ${CARD_COLUMNS} from issued_cards where uuid = $1`, [uuid]);
    return rows[0] && fromRow(rows[0]);
  }

  /** Writes everything queued (batch after batch) before resolving; rejects when a batch cannot be written. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => {});
    while (this.pending() > 0) {
      this.flushing = this.writeBatch();
      try {
        await this.flushing;
      } finally {
        this.flushing = undefined;
      }
    }
  }

  /** Number of records waiting. */
  pending(): number {
    return this.cards.length + this.silent.length;
  }

  /**
   * At shutdown: stop accepting records and write what is queued, within `graceMs`; what could not be
   * written is counted as a gap.
   */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const deadline = Date.now() + graceMs;
    while (this.pending() > 0 && Date.now() < deadline) {
      try {
        await this.flush();
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - Date.now()))));
      }
    }
    if (this.pending() > 0) {
      this.events.ledgerGap(this.pending(), 'shutdown');
      this.cards = [];
      this.silent = [];
    }
  }

  private isQueued(uuid: string): boolean {
    return this.cards.some((c) => c.uuid === uuid);
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => {
        // Retried on the next tick of the timer; the failure was reported by writeBatch.
        this.schedule();
      });
    }, this.options.flushMs);
    this.timer.unref();
  }

  private async writeBatch(): Promise<void> {
    const cards = this.cards.slice(0, this.options.batchMax);
    const silent = this.silent.slice(0, this.options.batchMax - cards.length);
    try {
      await this.db.query(INSERT_BATCH, batchParams(cards, silent));
    } catch (err) {
      this.health.failed();
      this.events.failure('ledger', err);
      throw err;
    }
    this.health.ok();
    // Records enqueued while the batch was written were appended, so the batch is still at the front.
    this.cards.splice(0, cards.length);
    this.silent.splice(0, silent.length);
    this.events.ledgerQueue(this.pending());
  }
}

/**
 * One statement, so a batch is written whole or not at all (a kill mid-batch leaves no half batch).
 * Encoding a batch is most of the ledger's CPU in the service, so rows travel as columns (unnest), and
 * every string that repeats across cards (rule, version, service, client, category, time, a card's set
 * of override reasons as an array literal …) travels once, in a dictionary ($1); those columns are
 * 1-based indexes into it, sent as integer-array literals built here (no per-element escaping).
 */
const INSERT_BATCH = `
  with d as (select $1::text[] as t),
  cards as (
    insert into issued_cards (uuid, rule_id, rule_version, also, ruleset_version, service, hook, client, category, indicator,
                              suggestions, override_reasons, issued_at)
    select c.uuid, d.t[c.rule_id], d.t[c.rule_version], coalesce(c.also::jsonb, '[]'), d.t[c.ruleset_version], d.t[c.service],
           d.t[c.hook], d.t[c.client], d.t[c.category], d.t[c.indicator], coalesce(c.suggestions::jsonb, '[]'),
           d.t[c.override_reasons]::text[], d.t[c.issued_at]::timestamptz
    from d, unnest($2::text[], $3::text[], $4::text[], $5::text::int[], $6::text::int[], $7::text::int[], $8::text::int[],
                   $9::text::int[], $10::text::int[], $11::text::int[], $12::text::int[], $13::text::int[], $14::text::int[])
         as c(uuid, also, suggestions, rule_id, rule_version, ruleset_version, service, hook, client, category, indicator,
              override_reasons, issued_at)
    on conflict (uuid) do nothing
    returning 1
  ), silent as (
    insert into silent_firings (rule_id, rule_version, category, service, client, fired_at)
    select d.t[s.rule_id], d.t[s.rule_version], d.t[s.category], d.t[s.service], d.t[s.client], d.t[s.fired_at]::timestamptz
    from d, unnest($15::text::int[], $16::text::int[], $17::text::int[], $18::text::int[], $19::text::int[], $20::text::int[])
         as s(rule_id, rule_version, category, service, client, fired_at)
    returning 1
  )
  select (select count(*) from cards)::int as cards, (select count(*) from silent)::int as silent`;

/** The parameters of INSERT_BATCH for one batch. */
function batchParams(cards: readonly CardRecord[], silent: readonly SilentFiring[]): (string | (string | null)[])[] {
  const dict: string[] = [];
  const positions = new Map<string, number>();
  const at = (s: string): number => {
    let i = positions.get(s);
    if (i === undefined) positions.set(s, (i = dict.push(s)));
    return i;
  };
  // A hook call's records share one Date: convert it once.
  let lastTime: Date | undefined;
  let lastTimeAt = 0;
  const time = (d: Date): number => (d === lastTime ? lastTimeAt : ((lastTime = d), (lastTimeAt = at(d.toISOString()))));
  // Cards of one rule offer the same reasons: one array literal per distinct set. NUL cannot occur in a
  // PostgreSQL string, so joining on it cannot make two storable sets look alike.
  const reasonSets = new Map<string, number>();
  const reasons = (list: readonly string[]): number => {
    const key = list.join('\0');
    let i = reasonSets.get(key);
    if (i === undefined) reasonSets.set(key, (i = at(arrayLiteral(list))));
    return i;
  };

  const uuid: string[] = [];
  const also: (string | null)[] = [];
  const suggestions: (string | null)[] = [];
  // The integer columns, in the order of the unnest in INSERT_BATCH ($5 … $14, then $15 … $20).
  const c = Array.from({ length: 10 }, (): number[] => []);
  for (const card of cards) {
    uuid.push(card.uuid);
    also.push(card.also.length > 0 ? JSON.stringify(card.also) : null);
    suggestions.push(card.suggestions.length > 0 ? JSON.stringify(card.suggestions) : null);
    c[0]!.push(at(card.ruleId));
    c[1]!.push(at(card.ruleVersion));
    c[2]!.push(at(card.rulesetVersion));
    c[3]!.push(at(card.service));
    c[4]!.push(at(card.hook));
    c[5]!.push(at(card.client));
    c[6]!.push(at(card.category));
    c[7]!.push(at(card.indicator));
    c[8]!.push(reasons(card.overrideReasons));
    c[9]!.push(time(card.issuedAt));
  }
  const s = Array.from({ length: 6 }, (): number[] => []);
  for (const f of silent) {
    s[0]!.push(at(f.ruleId));
    s[1]!.push(at(f.ruleVersion));
    s[2]!.push(at(f.category));
    s[3]!.push(at(f.service));
    s[4]!.push(at(f.client));
    s[5]!.push(time(f.firedAt));
  }
  const ints = (a: number[]) => `{${a.join(',')}}`;
  return [dict, uuid, also, suggestions, ...c.map(ints), ...s.map(ints)];
}

/** A PostgreSQL text-array literal: every element quoted, with `\` and `"` escaped. */
function arrayLiteral(list: readonly string[]): string {
  return `{${list.map((x) => `"${x.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

export const CARD_COLUMNS =
  'uuid, rule_id, rule_version, also, ruleset_version, service, hook, client, category, indicator, suggestions, override_reasons, issued_at';

export interface CardRow {
  uuid: string;
  rule_id: string;
  rule_version: string;
  also: CardRecord['also'];
  ruleset_version: string;
  service: string;
  hook: string;
  client: string;
  category: string;
  indicator: string;
  suggestions: CardRecord['suggestions'];
  override_reasons: string[];
  issued_at: Date | string;
}

export function fromRow(r: CardRow): CardRecord {
  return {
    uuid: r.uuid,
    ruleId: r.rule_id,
    ruleVersion: r.rule_version,
    also: r.also,
    rulesetVersion: r.ruleset_version,
    service: r.service,
    hook: r.hook,
    client: r.client,
    category: r.category,
    indicator: r.indicator,
    suggestions: r.suggestions,
    overrideReasons: r.override_reasons,
    issuedAt: new Date(r.issued_at),
  };
}
