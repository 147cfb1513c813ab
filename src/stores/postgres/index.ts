import type { Stores } from '../ports.js';
import { ReplayCache } from '../memory/replay-cache.js';
import { openDatabase, type DatabaseOptions } from './database.js';
import { SqlStore } from './sql-store.js';
import type { StoreEvents, StoreLog } from './store-health.js';
import type { LedgerOptions } from './card-ledger.js';

export { StoreConfigError } from './database.js';
export { SqlStore } from './sql-store.js';

export interface SqlStoresConfig extends DatabaseOptions {
  RETENTION_DAYS: number;
  LEDGER_QUEUE_MAX: number;
  LEDGER_BATCH_MAX: number;
  LEDGER_FLUSH_MS: number;
  JTI_CACHE_MAX: number;
}

/** Longest wait for the shared replay check before this replica decides from its own memory. */
const JTI_TIMEOUT_MS = 250;
/** After a failed shared check, the memory decides alone for this long (no 250 ms wait on every call of an outage). */
const JTI_BACKOFF_MS = 5_000;

/**
 * Opens the configured database (PostgreSQL when DATABASE_URL is set, else PGlite in DATA_DIR),
 * migrates it, and serves every port from it. Throws StoreConfigError for deployment mistakes.
 */
export async function openSqlStores(
  config: SqlStoresConfig,
  deps: { events: StoreEvents; logger: StoreLog; now?: () => Date },
): Promise<{ stores: Stores; store: SqlStore }> {
  const db = await openDatabase(config);
  const ledger: LedgerOptions = { queueMax: config.LEDGER_QUEUE_MAX, batchMax: config.LEDGER_BATCH_MAX, flushMs: config.LEDGER_FLUSH_MS };
  const store = new SqlStore(db, { retentionDays: config.RETENTION_DAYS, ledger, events: deps.events, logger: deps.logger, now: deps.now });
  try {
    await store.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  return { stores: sqlStores(store, new ReplayCache(config.JTI_CACHE_MAX, deps.now ?? (() => new Date())), deps.events), store };
}

/** The ports over one SqlStore; replay protection falls back to `memory` when the store does not answer. */
export function sqlStores(store: SqlStore, memory: ReplayCache, events: StoreEvents, now: () => number = Date.now): Stores {
  let skipSharedUntil = 0;
  return {
    cards: { issued: (cards, silent) => store.ledger.enqueue(cards, silent), find: (uuid) => store.ledger.find(uuid) },
    feedback: { record: (f) => store.recordFeedback(f) },
    analytics: { rules: (f) => store.analyticsRules(f), timeseries: (id, bucket, f) => store.analyticsTimeseries(id, bucket, f) },
    jtis: {
      /**
       * This replica's memory first (a replay to the same replica is refused without a round trip, and
       * still refused during a store outage), then the shared table (a replay to another replica, or
       * after a restart). A store that fails or does not answer in time leaves the memory's verdict.
       */
      async remember(iss, jti, expiresAtMs, nowMs) {
        if (!(await memory.remember(iss, jti, expiresAtMs, nowMs))) return false;
        if (now() < skipSharedUntil) {
          events.jtiFallback();
          return true;
        }
        try {
          return await withTimeout(store.rememberJti(iss, jti, expiresAtMs, nowMs), JTI_TIMEOUT_MS);
        } catch {
          skipSharedUntil = now() + JTI_BACKOFF_MS;
          events.jtiFallback();
          return true;
        }
      },
    },
    status: () => store.health.status(),
    close: (graceMs) => store.close(graceMs),
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => {}); // a late failure after the timeout has already been counted
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
