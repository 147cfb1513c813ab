import type { Stores } from '../ports.js';
import { FeedbackLedger } from './feedback-ledger.js';
import { ReplayCache } from './replay-cache.js';

export { FeedbackLedger } from './feedback-ledger.js';
export { ReplayCache } from './replay-cache.js';

/** How long an issued card can still receive feedback. */
const CARD_TTL_MS = 24 * 3600_000;

/**
 * The per-process stores: one ledger serves as card ledger and feedback store (the counts of cards
 * shown live beside the feedback), and an LRU cache remembers jtis.
 */
export function memoryStores(config: { FEEDBACK_MAX_CARDS: number; JTI_CACHE_MAX: number }, now: () => Date = () => new Date()): Stores {
  const ledger = new FeedbackLedger({ maxCards: config.FEEDBACK_MAX_CARDS, ttlMs: CARD_TTL_MS, now });
  return { cards: ledger, feedback: ledger, jtis: new ReplayCache(config.JTI_CACHE_MAX, now) };
}
