import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgres, type Database } from '../../src/stores/postgres/database.js';
import { migrate, migrationStatus, SCHEMA_VERSION, SchemaTooNewError } from '../../src/stores/postgres/migrations.js';
import { SqlStore } from '../../src/stores/postgres/sql-store.js';
import { noStoreEvents, type StoreEvents } from '../../src/stores/postgres/store-health.js';
import type { CardRecord, SilentFiring } from '../../src/stores/records.js';
import { createLogger } from '../../src/logger.js';
import { engines } from './databases.js';

const logger = createLogger({ LOG_LEVEL: 'silent' });
const NOW = new Date('2026-11-21T12:00:00Z');
let n = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;

function card(overrides: Partial<CardRecord> = {}): CardRecord {
  return {
    uuid: uuid(),
    ruleId: 'milrinone-renal-dose',
    ruleVersion: '1.0.0',
    also: [],
    rulesetVersion: 'r1',
    service: 'inotrope-order-sign',
    hook: 'order-sign',
    client: 'https://ehr.example',
    category: 'dosing',
    indicator: 'warning',
    suggestions: [
      { uuid: uuid(), label: 'Reduce milrinone to {{renal-rate.output}} mcg/kg/min' },
      { uuid: uuid(), label: 'Remove the draft order' },
    ],
    overrideReasons: ['urn:inotrope-cds:override-reason|benefit-outweighs-risk'],
    issuedAt: NOW,
    ...overrides,
  };
}

function silent(overrides: Partial<SilentFiring> = {}): SilentFiring {
  return { ruleId: 'shadow-rule', ruleVersion: '0.1.0', category: 'monitoring', service: 'inotrope-order-sign', client: 'https://ehr.example', firedAt: NOW, ...overrides };
}

async function count(db: Database, table: string): Promise<number> {
  const rows = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return rows[0]!.n;
}

const ledgerOptions = { queueMax: 10_000, batchMax: 500, flushMs: 10 };

describe.each(engines)('SQL store on $name', (engine) => {
  let db: Database;
  let url: string | undefined;
  let drop: () => Promise<void>;
  let store: SqlStore;

  beforeAll(async () => {
    ({ db, url, drop } = await engine.open());
    await migrate(db);
  }, 300_000);
  afterAll(async () => {
    await drop();
  });
  beforeEach(async () => {
    await db.query('truncate issued_cards, feedback, silent_firings, seen_jtis');
    store = new SqlStore(db, { retentionDays: 400, ledger: ledgerOptions, events: noStoreEvents, logger, now: () => NOW });
  });

  describe('migrations', () => {
    it('bring an empty database to the version this code knows, once', async () => {
      const status = await migrationStatus(db);
      expect(status).toMatchObject({ current: SCHEMA_VERSION, known: SCHEMA_VERSION, pending: [] });
      expect(status.applied.map((a) => a.version)).toEqual([1]);
      expect(await migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });
    });

    it('refuse a schema newer than the code, changing nothing', async () => {
      await db.query("insert into schema_migrations (version, name, applied_at) values (999, 'from the future', now())");
      try {
        await expect(migrate(db)).rejects.toThrow(SchemaTooNewError);
        await expect(migrate(db)).rejects.toThrow(/version 999, newer than this release knows \(1\)/);
      } finally {
        await db.query('delete from schema_migrations where version = 999');
      }
    });

    it.runIf(engine.name === 'postgres')('from several processes at once leave one schema', async () => {
      const { createTestDatabase } = await import('./databases.js');
      const fresh = await createTestDatabase();
      const pools = [openPostgres(fresh.url, 2), openPostgres(fresh.url, 2), openPostgres(fresh.url, 2)];
      try {
        const results = await Promise.all(pools.map((p) => migrate(p)));
        expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
        const status = await migrationStatus(pools[0]!);
        expect(status.applied.map((a) => a.version)).toEqual([1]);
      } finally {
        await Promise.all(pools.map((p) => p.close()));
        await fresh.drop();
      }
    });
  });

  describe('card ledger', () => {
    it('writes queued cards and silent firings in batches off the request path', async () => {
      const cards = Array.from({ length: 1203 }, () => card());
      store.ledger.enqueue(cards, [silent(), silent()]);
      expect(store.ledger.pending()).toBe(1205);
      await store.ledger.flush();
      expect(store.ledger.pending()).toBe(0);
      expect(await count(db, 'issued_cards')).toBe(1203);
      expect(await count(db, 'silent_firings')).toBe(2);
      const found = await store.ledger.find(cards[7]!.uuid);
      expect(found).toEqual(cards[7]);
    });

    it('keeps every card its own suggestions, override reasons and also rules in a mixed batch', async () => {
      const odd = 'Give "half" the dose, {then} re\\check; ok?';
      const cards = [
        card({ suggestions: [], overrideReasons: [] }),
        card({ suggestions: [{ uuid: uuid(), label: odd }], overrideReasons: ['a|1', 'b|{2}', 'c|"3"'], indicator: 'critical' }),
        card({ also: [{ id: 'milrinone-max-rate', version: '2.0.0' }, { id: 'x', version: 'unknown' }], client: '', issuedAt: new Date('2026-11-20T08:00:00Z') }),
        card({ suggestions: [], overrideReasons: ['a|1'], ruleId: odd }),
      ];
      store.ledger.enqueue(cards, [silent({ ruleId: odd, client: '' })]);
      await store.ledger.flush();
      for (const c of cards) expect(await store.ledger.find(c.uuid)).toEqual(c);
      const [s] = await db.query<{ rule_id: string; client: string; fired_at: Date | string }>('select rule_id, client, fired_at from silent_firings');
      expect({ ...s, fired_at: new Date(s!.fired_at) }).toEqual({ rule_id: odd, client: '', fired_at: NOW });
    });

    it('finds a card still queued (writing it first) and nothing for an unknown uuid', async () => {
      const c = card({ also: [{ id: 'milrinone-max-rate', version: '2.0.0' }] });
      store.ledger.enqueue([c], []);
      expect(await store.ledger.find(c.uuid)).toEqual(c);
      expect(store.ledger.pending()).toBe(0);
      expect(await store.ledger.find('00000000-0000-4000-8000-ffffffffffff')).toBeUndefined();
    });

    it('keeps a batch queued while the database fails, reports degraded, and writes it once the database is back', async () => {
      let failing = true;
      const failures: string[] = [];
      const flaky: Database = {
        ...db,
        query: (text, params) => (failing ? Promise.reject(new Error('connection refused')) : db.query(text, params)),
      };
      const events: StoreEvents = { ...noStoreEvents, failure: (op) => failures.push(op) };
      const s = new SqlStore(flaky, { retentionDays: 400, ledger: ledgerOptions, events, logger });
      s.health.markReady();
      const c = card();
      s.ledger.enqueue([c], [silent()]);
      await expect(s.ledger.flush()).rejects.toThrow('connection refused');
      expect(s.health.status()).toBe('degraded');
      expect(s.ledger.pending()).toBe(2);
      expect(failures).toContain('ledger');
      failing = false;
      await s.ledger.flush();
      expect(s.health.status()).toBe('ok');
      expect(await s.ledger.find(c.uuid)).toEqual(c);
    });

    it('counts what a full queue refuses as a gap', async () => {
      const gaps: number[] = [];
      const s = new SqlStore(db, {
        retentionDays: 400,
        ledger: { queueMax: 3, batchMax: 100, flushMs: 10_000 },
        events: { ...noStoreEvents, ledgerGap: (count) => gaps.push(count) },
        logger,
      });
      s.ledger.enqueue([card(), card(), card(), card(), card()], []);
      expect(gaps).toEqual([2]);
      await s.ledger.close(1_000);
      expect(await count(db, 'issued_cards')).toBe(3);
    });
  });

  describe('feedback', () => {
    it('keeps one outcome per card: a repeat is a duplicate, a different outcome a conflict', async () => {
      const c = card();
      store.ledger.enqueue([c], []);
      await store.ledger.flush();
      const accepted = {
        card: c.uuid,
        outcome: 'accepted' as const,
        acceptedSuggestions: [c.suggestions[0]!.uuid],
        hasComment: false,
        outcomeAt: NOW,
        receivedAt: NOW,
      };
      expect(await store.recordFeedback(accepted)).toBe('recorded');
      expect(await store.recordFeedback(accepted)).toBe('duplicate');
      expect(await store.recordFeedback({ ...accepted, acceptedSuggestions: [c.suggestions[1]!.uuid] })).toBe('conflict');
      expect(await store.recordFeedback({ ...accepted, outcome: 'overridden', acceptedSuggestions: [], overrideReason: 'other' })).toBe('conflict');
      const rows = await db.query('select outcome, accepted_suggestions, has_comment from feedback');
      expect(rows).toEqual([{ outcome: 'accepted', accepted_suggestions: [c.suggestions[0]!.uuid], has_comment: false }]);
    });
  });

  describe('seen jtis', () => {
    it('refuses a jti seen for the same issuer until it expires, then purges it', async () => {
      const exp = NOW.getTime() + 300_000;
      expect(await store.rememberJti('https://a.example', 'jti-1', exp, NOW.getTime())).toBe(true);
      expect(await store.rememberJti('https://a.example', 'jti-1', exp, NOW.getTime() + 1000)).toBe(false);
      expect(await store.rememberJti('https://b.example', 'jti-1', exp, NOW.getTime())).toBe(true);
      // After expiry the token itself is refused as expired; the entry may be reused.
      expect(await store.rememberJti('https://a.example', 'jti-1', exp + 600_000, exp + 1)).toBe(true);
      const { purgeJtis } = await import('../../src/stores/postgres/sql-stores.js');
      expect(await purgeJtis(db, new Date(exp + 600_001))).toBe(2);
      const rows = await db.query<{ jti_sha256: string }>('select jti_sha256 from seen_jtis');
      expect(rows).toEqual([]);
    });
  });

  describe('analytics', () => {
    async function seed() {
      const a = card();
      const b = card({ issuedAt: new Date('2026-11-20T08:00:00Z') });
      const other = card({ client: 'https://other.example', service: 'inotrope-order-select', hook: 'order-select' });
      const reconciled = card({ ruleId: 'milrinone-max-rate', also: [{ id: 'milrinone-renal-dose', version: '1.0.0' }], category: 'dosing' });
      const old = card({ issuedAt: new Date('2026-09-01T00:00:00Z') });
      store.ledger.enqueue([a, b, other, reconciled, old], [silent(), silent({ firedAt: new Date('2026-11-16T23:59:59Z') })]);
      await store.ledger.flush();
      const base = { hasComment: false, outcomeAt: NOW, receivedAt: NOW, acceptedSuggestions: [] };
      await store.recordFeedback({ ...base, card: a.uuid, outcome: 'accepted', acceptedSuggestions: [a.suggestions[0]!.uuid] });
      await store.recordFeedback({ ...base, card: b.uuid, outcome: 'overridden', overrideReason: 'other', hasComment: true });
      await store.recordFeedback({ ...base, card: other.uuid, outcome: 'overridden', overrideReason: a.overrideReasons[0] });
      await store.recordFeedback({ ...base, card: reconciled.uuid, outcome: 'accepted', acceptedSuggestions: [reconciled.suggestions[1]!.uuid] });
      return { a, b, other, reconciled, old };
    }
    const window = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };

    it('counts per rule and version: shown, outcomes, reasons, accepted suggestions, also rules, silent firings', async () => {
      await seed();
      const rules = await store.analyticsRules(window);
      expect(rules).toEqual([
        {
          id: 'milrinone-max-rate',
          version: '1.0.0',
          category: 'dosing',
          shown: 1,
          accepted: 1,
          overridden: 0,
          noFeedback: 0,
          overrideRate: 0,
          overrideReasons: {},
          acceptedSuggestions: { 'Remove the draft order': 1 },
          silentFirings: 0,
        },
        {
          id: 'milrinone-renal-dose',
          version: '1.0.0',
          category: 'dosing',
          // three cards of its own in the window, and the reconciled card that also stands for it
          shown: 4,
          accepted: 2,
          overridden: 2,
          noFeedback: 0,
          overrideRate: 0.5,
          overrideReasons: { other: 1, 'urn:inotrope-cds:override-reason|benefit-outweighs-risk': 1 },
          acceptedSuggestions: { 'Reduce milrinone to {{renal-rate.output}} mcg/kg/min': 1, 'Remove the draft order': 1 },
          silentFirings: 0,
        },
        {
          id: 'shadow-rule',
          version: '0.1.0',
          category: 'monitoring',
          shown: 0,
          accepted: 0,
          overridden: 0,
          noFeedback: 0,
          overrideRate: null,
          overrideReasons: {},
          acceptedSuggestions: {},
          silentFirings: 2,
        },
      ]);
    });

    it('filters by client, service and window (from inclusive, to exclusive)', async () => {
      const { b } = await seed();
      const byClient = await store.analyticsRules({ ...window, client: 'https://other.example' });
      expect(byClient.map((r) => [r.id, r.shown, r.overridden])).toEqual([['milrinone-renal-dose', 1, 1]]);
      const byService = await store.analyticsRules({ ...window, service: 'inotrope-order-select' });
      expect(byService.map((r) => [r.id, r.shown])).toEqual([['milrinone-renal-dose', 1]]);
      const exact = await store.analyticsRules({ from: b.issuedAt, to: new Date(b.issuedAt.getTime() + 1) });
      expect(exact.map((r) => [r.id, r.shown, r.overridden])).toEqual([['milrinone-renal-dose', 1, 1]]);
      const before = await store.analyticsRules({ from: new Date(b.issuedAt.getTime() - 1), to: b.issuedAt });
      expect(before).toEqual([]);
    });

    it('gives a time series per day and per Monday-start week in UTC, with empty buckets', async () => {
      await seed();
      const days = await store.analyticsTimeseries('milrinone-renal-dose', 'day', { from: new Date('2026-11-19T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') });
      expect(days).toEqual([
        { start: '2026-11-19T00:00:00Z', shown: 0, accepted: 0, overridden: 0, silentFirings: 0 },
        { start: '2026-11-20T00:00:00Z', shown: 1, accepted: 0, overridden: 1, silentFirings: 0 },
        { start: '2026-11-21T00:00:00Z', shown: 3, accepted: 2, overridden: 1, silentFirings: 0 },
      ]);
      const weeks = await store.analyticsTimeseries('shadow-rule', 'week', { from: new Date('2026-11-10T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') });
      // 2026-11-09 and 2026-11-16 are Mondays; 2026-11-16T23:59:59Z and 2026-11-21 fall in the same week.
      expect(weeks).toEqual([
        { start: '2026-11-09T00:00:00Z', shown: 0, accepted: 0, overridden: 0, silentFirings: 0 },
        { start: '2026-11-16T00:00:00Z', shown: 0, accepted: 0, overridden: 0, silentFirings: 2 },
      ]);
    });
  });

  describe('retention', () => {
    it('purges cards (with their feedback) and silent firings older than RETENTION_DAYS', async () => {
      const s = new SqlStore(db, { retentionDays: 30, ledger: ledgerOptions, events: noStoreEvents, logger, now: () => NOW });
      const old = card({ issuedAt: new Date(NOW.getTime() - 31 * 86_400_000) });
      const recent = card({ issuedAt: new Date(NOW.getTime() - 29 * 86_400_000) });
      s.ledger.enqueue([old, recent], [silent({ firedAt: old.issuedAt }), silent()]);
      await s.ledger.flush();
      await s.recordFeedback({ card: old.uuid, outcome: 'overridden', acceptedSuggestions: [], hasComment: false, outcomeAt: NOW, receivedAt: NOW });
      await s.purge();
      expect(await db.query('select uuid from issued_cards')).toEqual([{ uuid: recent.uuid }]);
      expect(await db.query('select card from feedback')).toEqual([]);
      expect(await db.query<{ n: number }>('select count(*)::int as n from silent_firings')).toEqual([{ n: 1 }]);
    });
  });

  it.runIf(engine.name === 'postgres')('connects with the URL it was given', () => {
    expect(url).toMatch(/inotrope_test_/);
  });
});
