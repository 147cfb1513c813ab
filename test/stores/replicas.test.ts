import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { hookResponseSchema } from '../../src/cds/response-schema.js';
import type { Card } from '../../src/shared/card.js';
import { loadRuleset } from '../../src/rules/load.js';
import type { Ruleset } from '../../src/rules/ruleset.js';
import { BASE, ISS, newKey, signToken, validRequest, writeClientsFile, type TestKey } from '../security/security-helpers.js';
import { createTestDatabase, TEST_DATABASE_URL } from './databases.js';
import { killAll, listening, startService } from './service-process.js';

/*
 * Several real service processes (src/main.ts) on one database: what one replica issued, another
 * attributes; a token used on one is refused on another; a replica killed mid-batch loses nothing it
 * acknowledged; replicas starting together migrate once. PostgreSQL only (TEST_DATABASE_URL), since
 * the embedded PGlite is one process by design — the last suite shows it refusing a second process.
 */

const OFFERED = { system: 'urn:inotrope-cds:override-reason', code: 'already-addressed' };
let key: TestKey;
let ruleset: Ruleset;
let clientsFile: string;
beforeAll(async () => {
  key = await newKey('ES384', 'ehr-key');
  clientsFile = writeClientsFile({ clients: [{ iss: ISS, jwks: { keys: [key.publicJwk] }, fhirServers: [] }] });
  ruleset = await loadRuleset('rules');
});
afterEach(() => killAll());

/** Real time: the processes run on the wall clock, so tokens are minted for now. */
async function token(urlPath: string, jti?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signToken(key, { aud: `${BASE}${urlPath}`, iat: now, exp: now + 120, ...(jti && { jti }) });
}

async function post(base: string, urlPath: string, body: unknown, bearer?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer ?? (await token(urlPath))}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function hookCall(base: string): Promise<Card[]> {
  const res = await post(base, '/cds-services/inotrope-order-sign', validRequest('order-sign', ruleset));
  expect(res.status).toBe(200);
  return hookResponseSchema.parse(res.body).cards;
}

const overridden = (card: Card) => ({ card: card.uuid, outcome: 'overridden', overrideReason: { reason: OFFERED }, outcomeTimestamp: new Date().toISOString() });

describe.runIf(TEST_DATABASE_URL)('replicas on one PostgreSQL database', () => {
  let db: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, CDS_AUTH: 'on', PUBLIC_BASE_URL: BASE, CDS_CLIENTS_FILE: clientsFile, LEDGER_FLUSH_MS: '50' };
  });
  afterAll(async () => {
    killAll();
    await db.drop();
  });

  it('migrate once when two start together, then share feedback and replay protection', async () => {
    const [a, b] = [startService(env), startService(env)];
    const [urlA, urlB] = await Promise.all([listening(a), listening(b)]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query('select version from schema_migrations order by version');
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      await client.end();
    }
    const ready = [a, b].map((s) => s.lines.find((l) => l.msg === 'store ready')!);
    expect(ready.map((r) => (r.applied as number[]).length).sort()).toEqual([0, 1]);

    // A card issued by A, feedback sent to B: recorded (once A's batch is written, within LEDGER_FLUSH_MS).
    const cards = await hookCall(urlA);
    const card = cards.find((c) => c.overrideReasons)!;
    await vi.waitFor(
      async () => {
        const res = await post(urlB, '/cds-services/inotrope-order-sign/feedback', { feedback: [overridden(card)] });
        expect(res.body).toMatchObject({ recorded: 1 });
      },
      { timeout: 5_000, interval: 100 },
    );
    const again = await post(urlA, '/cds-services/inotrope-order-sign/feedback', { feedback: [overridden(card)] });
    expect(again.body).toMatchObject({ recorded: 0, duplicates: 1 });

    // A token used on A and replayed on B (or on A again) is refused.
    const bearer = await token('/cds-services/inotrope-order-sign');
    expect((await post(urlA, '/cds-services/inotrope-order-sign', validRequest('order-sign', ruleset), bearer)).status).toBe(200);
    const replay = await post(urlB, '/cds-services/inotrope-order-sign', validRequest('order-sign', ruleset), bearer);
    expect(replay).toEqual({ status: 401, body: expect.objectContaining({ reason: 'replayed-jti' }) });

    // Both replicas answer the same analytics (the operator routes admit loopback callers without a credential),
    // once A has written the second call's batch (the ledger writes off the request path, within LEDGER_FLUSH_MS).
    await vi.waitFor(
      async () => {
        const [fromA, fromB] = await Promise.all([urlA, urlB].map(async (u) => (await fetch(`${u}/analytics/rules`)).json()));
        expect(fromA).toEqual(fromB);
        const rule = (fromA as { rules: { id: string; shown: number; overridden: number }[] }).rules.find((r) => r.id === (card.extension!['org.inotrope-cds.rule'] as { id: string }).id);
        expect(rule).toMatchObject({ shown: 2, overridden: 1 });
      },
      { timeout: 5_000, interval: 100 },
    );
  }, 360_000);

  it('loses no acknowledged card or feedback when a replica is killed mid-batch, and starts again', async () => {
    // A long flush interval keeps cards queued: feedback for a queued card writes its batch first.
    const slow = { ...env, LEDGER_FLUSH_MS: '5000' };
    const a = startService(slow);
    const urlA = await listening(a);
    const acknowledged: Card[] = [];
    for (let i = 0; i < 5; i++) {
      const cards = await hookCall(urlA);
      const res = await post(urlA, '/cds-services/inotrope-order-sign/feedback', { feedback: cards.map(overridden) });
      expect(res.body).toMatchObject({ recorded: cards.length });
      acknowledged.push(...cards);
    }
    // More hook calls whose cards are still queued, then SIGKILL while a batch may be on its way.
    await Promise.all(Array.from({ length: 5 }, () => hookCall(urlA)));
    a.child.kill('SIGKILL');
    await a.exited;

    const restarted = startService(env);
    const url = await listening(restarted);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const uuids = acknowledged.map((c) => c.uuid);
      const { rows } = await client.query('select count(*)::int as n from feedback f join issued_cards c on c.uuid = f.card where f.card = any($1)', [uuids]);
      expect(rows[0].n).toBe(uuids.length);
    } finally {
      await client.end();
    }
    const res = await post(url, '/cds-services/inotrope-order-sign/feedback', { feedback: [overridden(acknowledged[0]!)] });
    expect(res.body).toMatchObject({ duplicates: 1 });
  }, 360_000);
});

describe('the embedded database (PGlite in DATA_DIR)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'inotrope-data-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = () => ({ DATA_DIR: dataDir, CDS_AUTH: 'off', DATABASE_URL: '' });

  it('refuses a second process, and keeps analytics across a restart', async () => {
    const a = startService(env());
    const url = await listening(a);
    const second = startService(env());
    expect(await second.exited).toBe(78);
    expect(second.stderr.join('\n')).toMatch(/in use by process \d+ .*PGlite allows one process at a time/);

    const body = JSON.parse(readFileSync('examples/order-sign-milrinone.json', 'utf8')) as object;
    const hook = await fetch(`${url}/cds-services/inotrope-order-sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const cards = hookResponseSchema.parse(await hook.json()).cards;
    const fb = await fetch(`${url}/cds-services/inotrope-order-sign/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ feedback: [overridden(cards[0]!)] }),
    });
    expect(await fb.json()).toMatchObject({ recorded: 1 });
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);

    const b = startService(env());
    const urlB = await listening(b);
    const analytics = (await (await fetch(`${urlB}/analytics/rules`)).json()) as { rules: { shown: number; overridden: number }[] };
    expect(analytics.rules.reduce((n, r) => n + r.shown, 0)).toBeGreaterThanOrEqual(cards.length);
    expect(analytics.rules.reduce((n, r) => n + r.overridden, 0)).toBe(1);
  }, 480_000);

  it('fails fast (exit 78) when DATA_DIR cannot be written', async () => {
    const file = path.join(dataDir, 'not-a-dir');
    writeFileSync(file, '');
    const s = startService({ ...env(), DATA_DIR: path.join(file, 'data') });
    expect(await s.exited).toBe(78);
    expect(s.stderr.join('\n')).toMatch(/DATA_DIR .* is not a writable directory/);
  }, 60_000);
});
