import { mkdtemp, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nock from 'nock';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { consoleSettings, contentSecurityPolicy } from '../../src/http/console-routes.js';
import type { ConditionExplanation, RuleExplanation } from '../../src/shared/operator-api.js';
import { makeApp, useNockPerTest } from '../helpers.js';

/** The console's data routes (`/admin/*`) and its page (`/console/`), against the real app and rules/. */

const TOKEN = 'admin-test-operator-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const NOW = '2026-11-21T12:00:00Z';

async function example(name: string): Promise<Record<string, unknown> & { prefetch: Record<string, unknown> }> {
  return JSON.parse(await readFile(`examples/${name}.json`, 'utf8')) as Record<string, unknown> & { prefetch: Record<string, unknown> };
}

function leaves(c: ConditionExplanation): ConditionExplanation[] {
  return c.group ? (c.children ?? []).flatMap(leaves) : [c];
}

describe('admin routes need the operator credential', () => {
  it.each([
    ['get', '/admin/ruleset'],
    ['get', '/admin/ruleset/scenarios'],
    ['get', '/admin/codes?q=1791840'],
    ['get', '/admin/examples'],
    ['get', '/admin/examples/order-sign-milrinone'],
    ['get', '/admin/charts/clean-milrinone'],
    ['post', '/admin/evaluate'],
    ['post', '/admin/requests/from-bundle'],
  ] as const)('%s %s answers 401 without it, and keeps no cache', async (method, url) => {
    const { app } = await makeApp({ ADMIN_TOKEN: TOKEN });
    const res = await request(app)[method](url).send({});
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'unauthorized' });
    const wrong = await request(app)[method](url).set('authorization', 'Bearer not-the-token').send({});
    expect(wrong.status).toBe(401);
  });
});

describe('POST /admin/evaluate', () => {
  useNockPerTest();

  it('answers the cards the hook would, with each rule explained condition by condition', async () => {
    const { app } = await makeApp({ ADMIN_TOKEN: TOKEN });
    const body = await example('order-sign-milrinone');
    const hook = await request(app).post('/cds-services/inotrope-order-sign').send(body);
    const res = await request(app).post('/admin/evaluate').set(auth).send({ ...body, now: NOW });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const { cards, explanation } = res.body as { cards: { summary: string }[]; explanation: RuleExplanation[] };
    expect(cards.map((c) => c.summary)).toEqual((hook.body as { cards: { summary: string }[] }).cards.map((c) => c.summary));

    const hypo = explanation.find((x) => x.rule === 'CI-HYPOKALEMIA')!;
    expect(hypo).toMatchObject({ outcome: 'fired', indicator: 'warning' });
    // Order rules are explained per order, named by drug and request id.
    const renal = explanation.find((x) => x.rule === 'DOSE-MIL-RENAL')!;
    expect(renal).toMatchObject({ outcome: 'fired', subject: expect.stringContaining('MedicationRequest/stage-d-ckd-furosemide-milrinone-draft') });
    const potassium = leaves(hypo.conditions!).find((l) => l.label === 'potassium → value')!;
    expect(potassium).toMatchObject({
      operator: '<',
      value: '3.3 mmol/L',
      date: expect.stringMatching(/^2026-11-21/),
      threshold: expect.stringContaining('3.5 mmol/L (threshold potassium-low'),
      passed: true,
    });
    // A rule whose condition did not hold says which one.
    const notFired = explanation.filter((x) => x.outcome === 'not-fired');
    expect(notFired.length).toBeGreaterThan(0);
    for (const x of notFired) expect(x.conditions!.passed).toBe(false);
    for (const x of notFired) expect(leaves(x.conditions!).some((l) => l.decides), `${x.rule} names a deciding condition`).toBe(true);
    // ALL of [a milrinone draft, ANY of [hocm, aortic stenosis]]: neither condition of the failed ANY held, so
    // both decide; the draft order held and was needed, but did not decide the no.
    const obstruct = explanation.find((x) => x.rule === 'CI-OBSTRUCT')!;
    expect(leaves(obstruct.conditions!).map((l) => [l.label, l.decides === true])).toEqual([
      [expect.stringContaining('draft'), false],
      ['hocm', true],
      ['aortic-stenosis', true],
    ]);
    // A fired rule: every condition evaluated was needed, so each decides; one its ANY did not need does not.
    expect(leaves(hypo.conditions!).map((l) => l.decides === true)).toEqual(leaves(hypo.conditions!).map((l) => !l.skipped));
    expect(leaves(hypo.conditions!).some((l) => l.skipped)).toBe(true);
    // Every rule of the ruleset is accounted for; patient-view-only rules are not applicable here.
    const ruleset = await request(app).get('/admin/ruleset').set(auth);
    const active = (ruleset.body as { rules: { id: string; status: string }[] }).rules.filter((r) => r.status !== 'retired');
    expect(new Set(explanation.map((x) => x.rule))).toEqual(new Set(active.map((r) => r.id)));
    for (const x of explanation.filter((e) => e.outcome === 'not-applicable')) expect(x.reason).toBeTruthy();
    // The fired set is exactly the rules behind the cards.
    expect(explanation.filter((x) => x.outcome === 'fired').length).toBe(cards.length);
  });

  it('says why a data-quality card was raised', async () => {
    const { app } = await makeApp({ ADMIN_TOKEN: TOKEN });
    const body = await example('order-sign-milrinone');
    // The EHR could not answer one prefetch search: a data gap, so a data-quality card.
    body.prefetch['obs-potassium'] = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    const res = await request(app).post('/admin/evaluate').set(auth).send({ ...body, now: NOW });
    expect(res.status).toBe(200);
    const dq = (res.body as { explanation: RuleExplanation[] }).explanation.find((x) => x.rule === 'DQ-FETCH')!;
    expect(dq.outcome).toBe('fired');
    expect(dq.dataQuality!.join('\n')).toMatch(/dataGaps is present/);
    expect(dq.dataQuality!.join('\n').toLowerCase()).toContain('potassium');
  });

  it('evaluates only the data given: never fetches, stores or logs it', async () => {
    const { app, logs } = await makeApp({ ADMIN_TOKEN: TOKEN, FHIR_SERVER_ALLOWLIST: ['https://ehr.example.org/fhir'] });
    const fhir = nock('https://ehr.example.org').get(/.*/).reply(200, {});
    const body = await example('order-sign-no-prefetch');
    const res = await request(app).post('/admin/evaluate').set(auth).send({ ...body, now: NOW });
    expect(res.status).toBe(412);
    expect((res.body as { message: string }).message).toContain('only the data given');
    expect(fhir.isDone()).toBe(false);

    const full = await example('order-sign-milrinone');
    expect((await request(app).post('/admin/evaluate').set(auth).send({ ...full, now: NOW })).status).toBe(200);
    const summary = await request(app).get('/feedback').set(auth);
    expect((summary.body as { rules: unknown[] }).rules).toEqual([]);
    // Request timings are numbers too: drop them so the chart's potassium (3.3) cannot be confused with a duration.
    const text = logs.map((l) => l.replace(/"durationMs":[0-9.]+/g, '')).join('\n');
    expect(text).not.toContain('stage-d-ckd-furosemide');
    expect(text).not.toContain('3.3');
    expect(text).not.toContain('mmol');
  });

  it('refuses a bad now, an unknown hook and an invalid request with a pointer', async () => {
    const { app } = await makeApp({ ADMIN_TOKEN: TOKEN });
    const body = await example('order-sign-milrinone');
    expect((await request(app).post('/admin/evaluate').set(auth).send({ ...body, now: 'yesterday' })).body).toMatchObject({ pointer: '/now' });
    expect((await request(app).post('/admin/evaluate').set(auth).send({ ...body, hook: 'nope' })).body).toMatchObject({ pointer: '/hook' });
    const res = await request(app).post('/admin/evaluate').set(auth).send({ ...body, context: { patientId: 7 } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid-request', pointer: expect.stringMatching(/^\/context/) });
    expect((await request(app).post('/admin/evaluate').set(auth).set('content-type', 'text/plain').send('x')).status).toBe(415);
  });
});

describe('the ruleset, codes, examples and charts', () => {
  it('describes the loaded ruleset: rules as written, value sets, thresholds and what uses them', async () => {
    const { app, ruleset } = await makeApp({ ADMIN_TOKEN: TOKEN });
    const res = await request(app).get('/admin/ruleset').set(auth);
    expect(res.status).toBe(200);
    const body = res.body as {
      version: string;
      rules: { id: string; file: string; conditions: unknown }[];
      valueSets: { name: string; codeCount: number; systems: Record<string, number>; usedBy: string[] }[];
      thresholds: { name: string; value: number; usedBy: string[] }[];
      tables: { name: string; rows: unknown[] }[];
      lastReload?: unknown;
    };
    expect(body.version).toBe(ruleset.version);
    expect(body.lastReload).toBeUndefined();
    expect(body.rules.find((r) => r.id === 'CI-HYPOKALEMIA')).toMatchObject({ file: expect.stringMatching(/^rules\//), conditions: expect.any(Object) });
    const milrinone = body.valueSets.find((v) => v.name === 'milrinone')!;
    expect(milrinone.codeCount).toBe(Object.values(milrinone.systems).reduce((a, b) => a + b, 0));
    expect(milrinone.usedBy).toContain('DOSE-MIL-MAX');
    expect(body.thresholds.find((t) => t.name === 'potassium-low')).toMatchObject({ value: 3.5, usedBy: expect.arrayContaining(['CI-HYPOKALEMIA']) });
    expect(body.tables.find((t) => t.name === 'milrinone-renal-rate')!.rows.length).toBeGreaterThan(0);
  });

  it('finds a code by code or by display words, with the value sets and rules that use it', async () => {
    const { app } = await makeApp({ ADMIN_TOKEN: TOKEN });
    const byCode = await request(app).get('/admin/codes?q=1791840').set(auth);
    expect(byCode.body).toMatchObject({ codes: [{ code: '1791840', valueSets: expect.arrayContaining([expect.objectContaining({ name: 'milrinone' })]) }] });
    const byWords = await request(app).get('/admin/codes?q=obstructive%20cardiomyopathy').set(auth);
    const codes = (byWords.body as { codes: { display: string; valueSets: { rules: string[] }[] }[] }).codes;
    expect(codes.length).toBeGreaterThan(0);
    for (const c of codes) expect(c.display.toLowerCase()).toMatch(/obstructive.*cardiomyopathy|cardiomyopathy.*obstructive/);
    expect(codes.flatMap((c) => c.valueSets.flatMap((v) => v.rules))).toContain('CI-HOCM');
    expect((await request(app).get('/admin/codes').set(auth)).status).toBe(400);
    expect((await request(app).get(`/admin/codes?q=${'x'.repeat(101)}`).set(auth)).status).toBe(400);
  });

  it('runs the scenario tests against the loaded ruleset', async () => {
    const { app, ruleset } = await makeApp({ ADMIN_TOKEN: TOKEN });
    const res = await request(app).get('/admin/ruleset/scenarios').set(auth);
    expect(res.status).toBe(200);
    const run = res.body as { version: string; passed: number; failed: number; results: { passed: boolean; fired: string[] }[] };
    expect(run.version).toBe(ruleset.version);
    expect(run.failed).toBe(0);
    expect(run.passed).toBe(run.results.length);
    expect(run.results.length).toBeGreaterThan(20);
  }, 60_000);

  it('offers the examples and charts, and builds a request from a chart or an uploaded Bundle', async () => {
    const { app } = await makeApp({ ADMIN_TOKEN: TOKEN });
    const list = (await request(app).get('/admin/examples').set(auth)).body as { examples: { id: string }[]; charts: { id: string }[] };
    expect(list.examples.map((e) => e.id)).toContain('order-sign-milrinone');
    expect(list.charts.map((c) => c.id)).toContain('stage-d-ckd-furosemide');
    const got = await request(app).get('/admin/examples/order-sign-milrinone').set(auth);
    expect(got.body).toMatchObject({ request: { hook: 'order-sign' }, now: NOW });
    expect((await request(app).get('/admin/examples/nope').set(auth)).status).toBe(404);

    const chart = await request(app).get('/admin/charts/stage-d-ckd-furosemide?hook=order-sign').set(auth);
    expect(chart.status).toBe(200);
    const fromChart = await request(app).post('/admin/evaluate').set(auth).send({ ...(chart.body as { request: object }).request, now: NOW });
    const fromExample = await request(app).post('/admin/evaluate').set(auth).send({ ...(got.body as { request: object }).request, now: NOW });
    const summaries = (r: request.Response) => (r.body as { cards: { summary: string }[] }).cards.map((c) => c.summary);
    expect(summaries(fromChart)).toEqual(summaries(fromExample));

    // The same chart as one FHIR Bundle (what an EHR export gives): the same cards.
    const body = await example('order-sign-milrinone');
    const resources = new Map<string, object>();
    for (const value of Object.values(body.prefetch)) {
      const v = value as { resourceType?: string; id?: string; entry?: { resource: { resourceType: string; id: string } }[] } | null;
      for (const r of v?.resourceType === 'Bundle' ? (v.entry ?? []).map((e) => e.resource) : v ? [v as { resourceType: string; id: string }] : []) {
        resources.set(`${r.resourceType}/${r.id}`, r);
      }
    }
    for (const e of (body.context as { draftOrders: { entry: { resource: { resourceType: string; id: string } }[] } }).draftOrders.entry) {
      resources.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
    }
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [...resources.values()].map((resource) => ({ resource })) };
    const built = await request(app).post('/admin/requests/from-bundle').set(auth).send({ hook: 'order-sign', bundle });
    expect(built.status).toBe(200);
    const fromBundle = await request(app).post('/admin/evaluate').set(auth).send({ ...(built.body as { request: object }).request, now: NOW });
    expect(summaries(fromBundle)).toEqual(summaries(fromExample));
    const noPatient = await request(app).post('/admin/requests/from-bundle').set(auth).send({ hook: 'order-sign', bundle: { resourceType: 'Bundle', entry: [] } });
    expect(noPatient.status).toBe(400);
  });
});

describe('the console page', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'console-dist-'));
    await mkdir(path.join(dir, 'assets'));
    await writeFile(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/console/assets/app-abc123.js"></script>');
    await writeFile(path.join(dir, 'assets', 'app-abc123.js'), 'export {};');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('serves the shell without a credential, under a strict CSP; hashed assets for a year', async () => {
    const { app } = await makeApp({ ADMIN_TOKEN: TOKEN });
    const { createApp } = await import('../../src/http/app.js');
    void createApp;
    const { app: withDir } = await makeAppWithConsole(dir);
    void app;
    const page = await request(withDir).get('/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await request(withDir).get('/console/assets/app-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await request(withDir).get('/console/config.json')).body).toEqual({ auth: 'token' });
    expect((await request(withDir).get('/console/assets/missing.js')).status).toBe(404);
  });

  it('tells the page how to sign in, and lets it reach only the identity provider', () => {
    const base = testConfig();
    expect(consoleSettings(base)).toEqual({ auth: 'loopback' });
    expect(consoleSettings({ ...base, ADMIN_TOKEN: TOKEN })).toEqual({ auth: 'token' });
    const oidc = { ...base, ADMIN_OIDC_ISSUER: 'https://login.example.org/realms/cds', ADMIN_OIDC_CLIENT_ID: 'cds-console' };
    expect(consoleSettings(oidc)).toEqual({ auth: 'oidc', oidc: { authority: 'https://login.example.org/realms/cds', clientId: 'cds-console', scope: 'openid' } });
    expect(contentSecurityPolicy(oidc)).toContain("connect-src 'self' https://login.example.org;");
    expect(contentSecurityPolicy(base)).toContain("connect-src 'self';");
  });
});

async function makeAppWithConsole(consoleDir: string) {
  const { createApp } = await import('../../src/http/app.js');
  const made = await makeApp({ ADMIN_TOKEN: TOKEN });
  const { createLogger } = await import('../../src/logger.js');
  const { memoryStores } = await import('../../src/stores/memory/index.js');
  const { staticSource } = await import('../helpers.js');
  const app = createApp({
    config: made.config,
    logger: createLogger({ LOG_LEVEL: 'silent' }),
    rules: staticSource(made.ruleset),
    stores: memoryStores(made.config, () => new Date(NOW)),
    consoleDir,
  });
  return { app };
}
