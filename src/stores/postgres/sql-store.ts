import type { AnalyticsFilter, Bucket, FeedbackRecord, RuleAnalytics, StoreFeedbackResult, TimeseriesPoint } from '../records.js';
import { analyticsRules, analyticsTimeseries } from './analytics.js';
import { SqlCardLedger, type LedgerOptions } from './card-ledger.js';
import { StoreConfigError, type Database } from './database.js';
import { migrate } from './migrations.js';
import { purgeExpired, purgeJtis, recordFeedback, rememberJti } from './sql-stores.js';
import { StoreHealth, type StoreEvents, type StoreLog } from './store-health.js';

export interface SqlStoreOptions {
  retentionDays: number;
  ledger: LedgerOptions;
  events: StoreEvents;
  logger: StoreLog;
  now?: () => Date;
}

const DAY_MS = 86_400_000;
/** Expired jtis are deleted this often (they are refused by expiry anyway; this only bounds the table). */
const JTI_PURGE_MS = 10 * 60_000;
/** A database unreachable at start is retried this often in the background while hooks keep answering. */
const MIGRATE_RETRY_MS = 5_000;

/**
 * The durable store on one database (PostgreSQL or PGlite): the batched card ledger, feedback, seen
 * jtis, analytics, the schema migrations at start and the periodic purges.
 */
export class SqlStore {
  readonly health = new StoreHealth();
  readonly ledger: SqlCardLedger;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly now: () => Date;

  constructor(
    readonly db: Database,
    private readonly options: SqlStoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.ledger = new SqlCardLedger(db, options.ledger, options.events, this.health);
  }

  /**
   * Migrates the schema. A schema newer than this code, or a refused data directory, is a deployment
   * error and throws (the process exits 78); an unreachable database is retried in the background while
   * the store reports itself degraded, so hooks answer during a database outage at start too.
   */
  async start(): Promise<void> {
    try {
      await this.migrate();
    } catch (err) {
      if (err instanceof StoreConfigError) throw err;
      this.health.failed();
      this.options.events.failure('migrate', err);
      this.options.logger.error({ err: err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300), store: this.db.location }, 'store: migrations could not run; retrying in the background');
      const retry = setInterval(() => {
        this.migrate().then(
          () => clearInterval(retry),
          (e: unknown) => this.options.events.failure('migrate', e),
        );
      }, MIGRATE_RETRY_MS);
      retry.unref();
      this.timers.push(retry);
    }
    this.schedule(() => this.purge(), DAY_MS, 60_000);
    this.schedule(() => purgeJtis(this.db, this.now()).then(() => undefined), JTI_PURGE_MS, JTI_PURGE_MS);
  }

  private async migrate(): Promise<void> {
    const result = await migrate(this.db);
    this.health.markReady();
    this.health.ok();
    this.options.logger.info({ store: this.db.kind, location: this.db.location, schema: result.to, applied: result.applied }, 'store ready');
  }

  /** Retention: cards (with their feedback) and silent firings older than RETENTION_DAYS, and expired jtis. */
  async purge(): Promise<void> {
    const now = this.now();
    const deleted = await purgeExpired(this.db, now, this.options.retentionDays);
    const jtis = await purgeJtis(this.db, now);
    this.options.logger.info({ ...deleted, jtis, retentionDays: this.options.retentionDays }, 'store: retention purge');
  }

  recordFeedback(f: FeedbackRecord): Promise<StoreFeedbackResult> {
    return this.guard('feedback', () => recordFeedback(this.db, f));
  }

  rememberJti(iss: string, jti: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return this.guard('jti', () => rememberJti(this.db, iss, jti, expiresAtMs, nowMs));
  }

  analyticsRules(filter: AnalyticsFilter): Promise<RuleAnalytics[]> {
    return this.guard('analytics', () => analyticsRules(this.db, filter));
  }

  analyticsTimeseries(id: string, bucket: Bucket, filter: AnalyticsFilter): Promise<TimeseriesPoint[]> {
    return this.guard('analytics', () => analyticsTimeseries(this.db, id, bucket, filter));
  }

  /** SIGTERM: write the queued ledger within the grace period, stop the timers, close the database. */
  async close(graceMs: number): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.ledger.close(graceMs);
    await this.db.close();
  }

  private schedule(task: () => Promise<void>, everyMs: number, firstMs: number): void {
    const run = () =>
      task().catch((err: unknown) => {
        this.options.events.failure('purge', err);
      });
    const first = setTimeout(() => {
      void run();
      const every = setInterval(() => void run(), everyMs);
      every.unref();
      this.timers.push(every);
    }, firstMs);
    first.unref();
    this.timers.push(first);
  }

  /** Runs one store operation, keeping the store's health and the failure count up to date. */
  private async guard<T>(op: string, work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      if (this.health.status() === 'degraded' && op !== 'analytics') this.health.ok();
      return result;
    } catch (err) {
      this.health.failed();
      this.options.events.failure(op, err);
      throw err;
    }
  }
}
