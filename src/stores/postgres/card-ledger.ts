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

type Pending = { kind: 'card'; record: CardRecord } | { kind: 'silent'; record: SilentFiring };

/**
 * The card ledger in SQL, written off the request path: a hook call enqueues its cards and returns; a
 * timer writes them in batches (one statement per table per batch). When the database is down the
 * batch stays queued and is retried, so a short outage loses nothing; only a full queue drops records,
 * and those are counted (metric and log) as a gap. Feedback for a card still queued here writes the
 * queue first, so an acknowledged outcome never refers to a card that is not stored.
 */
export class SqlCardLedger {
  private queue: Pending[] = [];
  /** Queued cards by uuid, so feedback on this replica finds a card before its batch is written. */
  private readonly queuedCards = new Map<string, CardRecord>();
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
    let dropped = 0;
    for (const p of [...cards.map((record) => ({ kind: 'card', record }) as const), ...silent.map((record) => ({ kind: 'silent', record }) as const)]) {
      if (this.closed || this.queue.length >= this.options.queueMax) {
        dropped++;
        continue;
      }
      this.queue.push(p);
      if (p.kind === 'card') this.queuedCards.set(p.record.uuid, p.record);
    }
    if (dropped > 0) this.events.ledgerGap(dropped, this.closed ? 'shutdown' : 'queue-full');
    this.events.ledgerQueue(this.queue.length);
    if (this.queue.length >= this.options.batchMax) void this.flush();
    else this.schedule();
  }

  /** A card by uuid: queued here, else stored. */
  async find(uuid: string): Promise<CardRecord | undefined> {
    if (this.queuedCards.has(uuid)) {
      await this.flush();
      // Still queued: the database is down; the card is known but cannot be referenced yet.
      if (this.queuedCards.has(uuid)) throw new Error('store unavailable: the card is not written yet');
    }
    const rows = await this.db.query<CardRow>(`select ${CARD_COLUMNS} from issued_cards where uuid = $1`, [uuid]);
    return rows[0] && fromRow(rows[0]);
  }

  /** Writes everything queued (batch after batch) before resolving; rejects when a batch cannot be written. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => {});
    while (this.queue.length > 0) {
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
    return this.queue.length;
  }

  /**
   * At shutdown: stop accepting records and write what is queued, within `graceMs`; what could not be
   * written is counted as a gap.
   */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const deadline = Date.now() + graceMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      try {
        await this.flush();
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - Date.now()))));
      }
    }
    if (this.queue.length > 0) {
      this.events.ledgerGap(this.queue.length, 'shutdown');
      this.queue = [];
      this.queuedCards.clear();
    }
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
    const batch = this.queue.slice(0, this.options.batchMax);
    const cards = batch.flatMap((p) => (p.kind === 'card' ? [p.record] : []));
    const silent = batch.flatMap((p) => (p.kind === 'silent' ? [p.record] : []));
    try {
      await this.db.query(INSERT_BATCH, [JSON.stringify(cards.map(toRow)), JSON.stringify(silent.map(toSilentRow))]);
    } catch (err) {
      this.health.failed();
      this.events.failure('ledger', err);
      throw err;
    }
    this.health.ok();
    this.queue.splice(0, batch.length);
    for (const c of cards) this.queuedCards.delete(c.uuid);
    this.events.ledgerQueue(this.queue.length);
  }
}

// One statement, so a batch is written whole or not at all (a kill mid-batch leaves no half batch). Rows
// travel as positional JSON arrays (no repeated keys): the encoding is most of the ledger's CPU per card.
const INSERT_BATCH = `
  with cards as (
    insert into issued_cards (uuid, rule_id, rule_version, also, ruleset_version, service, hook, client, category, indicator,
                              suggestions, override_reasons, issued_at)
    select r->>0, r->>1, r->>2, r->3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9,
           r->10, array(select jsonb_array_elements_text(r->11)), (r->>12)::timestamptz
    from jsonb_array_elements($1::jsonb) as r
    on conflict (uuid) do nothing
    returning 1
  ), silent as (
    insert into silent_firings (rule_id, rule_version, category, service, client, fired_at)
    select r->>0, r->>1, r->>2, r->>3, r->>4, (r->>5)::timestamptz
    from jsonb_array_elements($2::jsonb) as r
    returning 1
  )
  select (select count(*) from cards)::int as cards, (select count(*) from silent)::int as silent`;

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

/** A card as the positional row INSERT_BATCH reads (same order as its select list). */
function toRow(c: CardRecord): unknown[] {
  return [
    c.uuid,
    c.ruleId,
    c.ruleVersion,
    c.also,
    c.rulesetVersion,
    c.service,
    c.hook,
    c.client,
    c.category,
    c.indicator,
    c.suggestions,
    c.overrideReasons,
    c.issuedAt.toISOString(),
  ];
}

function toSilentRow(s: SilentFiring): unknown[] {
  return [s.ruleId, s.ruleVersion, s.category, s.service, s.client, s.firedAt.toISOString()];
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
