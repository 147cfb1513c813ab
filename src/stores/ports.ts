import type {
  AnalyticsFilter,
  Bucket,
  CardRecord,
  FeedbackRecord,
  RuleAnalytics,
  SilentFiring,
  StoreFeedbackResult,
  TimeseriesPoint,
} from './records.js';

export type * from './records.js';

/**
 * What the service must remember between calls, as async ports: the cards it issued (so feedback can
 * be attributed to the rule, client and service that raised each card), the feedback clinicians sent,
 * the analytics over both, and the client-JWT ids it has seen (replay protection). The HTTP edge and
 * the use-cases depend on these interfaces only. Implementations: `src/stores/memory/` (per process;
 * tests) and `src/stores/postgres/` (PostgreSQL or the embedded PGlite; what `main.ts` uses).
 */

/** The issued-card ledger. */
export interface CardLedger {
  /**
   * Takes the cards and silent-rule firings of one hook call. Never waits for storage and never throws:
   * a hook's cards are never held back by bookkeeping (a durable store writes them in batches).
   */
  issued(cards: readonly CardRecord[], silent: readonly SilentFiring[]): void;
  /** A card by uuid; undefined when unknown (or past retention). Rejects when the store cannot answer. */
  find(uuid: string): Promise<CardRecord | undefined>;
}

/** Feedback: at most one outcome per card. */
export interface FeedbackStore {
  /** Stores an outcome for a card the ledger holds: new, the same again (duplicate), or a different one (conflict, not counted). */
  record(feedback: FeedbackRecord): Promise<StoreFeedbackResult>;
}

/** What informaticists read: per-rule counts over a window, and one rule's counts per day or week. */
export interface AnalyticsStore {
  rules(filter: AnalyticsFilter): Promise<RuleAnalytics[]>;
  timeseries(id: string, bucket: Bucket, filter: AnalyticsFilter): Promise<TimeseriesPoint[]>;
}

/** The `jti`s of accepted client JWTs, kept until each token expires. */
export interface JtiStore {
  /** Records the token; false when the same issuer's `jti` is still remembered (a replay). */
  remember(iss: string, jti: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
}

/** Every store the service uses, as `createApp` takes them. */
export interface Stores {
  cards: CardLedger;
  feedback: FeedbackStore;
  analytics: AnalyticsStore;
  jtis: JtiStore;
  /** For `/readyz`: `degraded` while the store cannot write (hooks keep answering). */
  status(): 'ok' | 'degraded';
  /** At shutdown: write what is queued (within `graceMs`) and release the database. */
  close(graceMs: number): Promise<void>;
}
