import { describe, expect, it } from 'vitest';
import { sqlStores } from '../../src/stores/postgres/index.js';
import { SqlStore } from '../../src/stores/postgres/sql-store.js';
import { noStoreEvents } from '../../src/stores/postgres/store-health.js';
import type { Database } from '../../src/stores/postgres/database.js';
import { ReplayCache } from '../../src/stores/memory/replay-cache.js';
import { createLogger } from '../../src/logger.js';

const logger = createLogger({ LOG_LEVEL: 'silent' });
const NOW = Date.parse('2026-11-21T12:00:00Z');

/** A database whose every query does what `answer` says (reject, hang, or say the jti is new/seen). */
function fakeDatabase(answer: () => Promise<unknown[]>): Database {
  return {
    kind: 'postgres',
    location: 'fake',
    query: answer as Database['query'],
    exec: async () => {},
    transaction: (work) => work({ query: answer as Database['query'], exec: async () => {} }),
    close: async () => {},
  };
}

function stores(answer: () => Promise<unknown[]>) {
  let fallbacks = 0;
  let queries = 0;
  const clock = { t: NOW };
  const events = { ...noStoreEvents, jtiFallback: () => fallbacks++ };
  const counted = () => (queries++, answer());
  const store = new SqlStore(fakeDatabase(counted), { retentionDays: 400, ledger: { queueMax: 10, batchMax: 10, flushMs: 10 }, events, logger });
  const jtis = sqlStores(store, new ReplayCache(100, () => new Date(NOW)), events, () => clock.t).jtis;
  return { jtis, fallbacks: () => fallbacks, queries: () => queries, clock, store };
}

describe('replay protection when the store is unreachable', () => {
  it('falls back to the replica\'s memory: a replay to the same replica is still refused, and it is counted', async () => {
    const s = stores(() => Promise.reject(new Error('ECONNREFUSED')));
    expect(await s.jtis.remember('https://ehr.example', 'jti-1', NOW + 300_000, NOW)).toBe(true);
    expect(await s.jtis.remember('https://ehr.example', 'jti-1', NOW + 300_000, NOW + 1)).toBe(false);
    expect(s.fallbacks()).toBe(1);
    expect(s.store.health.status()).toBe('degraded');
    // For the next 5 s the memory decides without trying the store; then the store is tried again.
    expect(await s.jtis.remember('https://ehr.example', 'jti-1b', NOW + 300_000, NOW + 2)).toBe(true);
    expect([s.queries(), s.fallbacks()]).toEqual([1, 2]);
    s.clock.t += 5_001;
    expect(await s.jtis.remember('https://ehr.example', 'jti-1c', NOW + 300_000, NOW + 3)).toBe(true);
    expect([s.queries(), s.fallbacks()]).toEqual([2, 3]);
  });

  it('does not wait for a store that hangs: the memory decides after 250 ms', async () => {
    const s = stores(() => new Promise(() => {}));
    const start = performance.now();
    expect(await s.jtis.remember('https://ehr.example', 'jti-2', NOW + 300_000, NOW)).toBe(true);
    expect(performance.now() - start).toBeLessThan(5_000);
    expect(s.fallbacks()).toBe(1);
  });

  it('refuses what the shared store has seen (another replica, or before a restart)', async () => {
    const s = stores(() => Promise.resolve([]));
    expect(await s.jtis.remember('https://ehr.example', 'jti-3', NOW + 300_000, NOW)).toBe(false);
    expect(s.fallbacks()).toBe(0);
  });
});
