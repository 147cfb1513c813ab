import type { Stores } from '../ports.js';
import { MemoryLedger } from './memory-ledger.js';
import { ReplayCache } from './replay-cache.js';

export { MemoryLedger } from './memory-ledger.js';
export { ReplayCache } from './replay-cache.js';

/**
 * The per-process stores: one bounded ledger holds the cards, their feedback and silent firings (and
 * answers analytics over them), and an LRU cache remembers jtis. Lost on restart and not shared
 * between replicas: the service itself runs on `src/stores/postgres/`; these serve tests.
 */
export function memoryStores(config: { FEEDBACK_MAX_CARDS: number; JTI_CACHE_MAX: number }, now: () => Date = () => new Date()): Stores {
  const ledger = new MemoryLedger({ maxCards: config.FEEDBACK_MAX_CARDS });
  return {
    cards: { issued: (cards, silent) => ledger.enqueue(cards, silent), find: (uuid) => ledger.find(uuid) },
    feedback: { record: (f) => ledger.recordFeedback(f) },
    analytics: { rules: (f) => ledger.analyticsRules(f), timeseries: (id, bucket, f) => ledger.analyticsTimeseries(id, bucket, f) },
    jtis: new ReplayCache(config.JTI_CACHE_MAX, now),
    status: () => 'ok',
    close: async () => {},
  };
}
