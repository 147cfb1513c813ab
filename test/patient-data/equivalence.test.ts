import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import nock from 'nock';
import request from 'supertest';
import { logCapture, staticSource, useNockPerTest } from '../helpers.js';
import { testConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import { createLogger } from '../../src/logger.js';
import { loadRuleset } from '../../src/rules/load.js';
import { answer, buildRequest } from '../../src/scenarios/build-request.js';
import { chartSchema, type Scenario } from '../../src/rules/scenarios/scenario-schema.js';
import type { Hook } from '../../src/shared/hooks.js';
import { HOOK_MODULES } from '../../src/cds/hooks/registry.js';

/**
 * Done-when of the data issue, with the shipped ruleset: the same clinical request gives the same
 * cards whether its data arrives as full prefetch, as no prefetch with a fhirServer, or as a mix.
 * Every chart under rules/tests/patients is answered by a nock FHIR server exactly as the scenario
 * runner answers prefetch templates.
 */

const FHIR = 'https://ehr.test/fhir';
const TOKEN = 'equivalence-test-token';
const SERVICE = Object.fromEntries(HOOK_MODULES.map((m) => [m.hook, m.service.id])) as Record<Hook, string>;
const DIR = 'rules/tests/patients';
const ruleset = await loadRuleset('rules');
const charts = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, chart: chartSchema.parse(JSON.parse(readFileSync(`${DIR}/${f}`, 'utf8'))) }));

useNockPerTest();

/** A fresh app per call, so card uuids restart and equal inputs give byte-equal answers. */
function freshApp() {
  let n = 0;
  return createApp({
    // Equivalence, not speed, is under test: a generous budget keeps a busy test machine from making gaps.
    config: testConfig({ FHIR_SERVER_ALLOWLIST: [FHIR], FHIR_BUDGET_MS: 5000, FHIR_REQUEST_TIMEOUT_MS: 5000 }),
    logger: createLogger({ LOG_LEVEL: 'silent' }, logCapture().stream),
    rules: staticSource(ruleset),
    stores: memoryStores(testConfig()),
    now: () => new Date('2026-11-21T12:00:00Z'),
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
}

let withCards = 0;

describe('same cards from prefetch, from the FHIR server, or a mix', () => {
  it('has charts to compare', () => {
    expect(charts.length).toBeGreaterThan(3);
  });

  afterAll(() => {
    // Equal empty answers would prove little: most charts must yield cards.
    expect(withCards).toBeGreaterThan(3);
  });

  for (const { file, chart } of charts) {
    const hooks: Hook[] = chart.draftOrders?.length ? ['order-sign', 'order-select'] : ['patient-view'];
    for (const hook of hooks) {
      it(`${file} (${hook})`, async () => {
        const full = buildRequest(chart, { name: file, patient: file, hook, expect: {} } as Scenario, ruleset.requirements(hook), new Date('2026-11-21T12:00:00Z'));
        const prefetch = full.prefetch as Record<string, unknown>;
        const keys = Object.keys(prefetch);
        expect(keys.length).toBeGreaterThan(0);
        const auth = { fhirServer: FHIR, fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'cds' } };
        let served = 0;
        const server = nock('https://ehr.test', { reqheaders: { authorization: `Bearer ${TOKEN}` } })
          .persist()
          .get(/^\/fhir\//)
          .reply((uri) => {
            served++;
            const body = answer(decodeURIComponent(uri.replace(/^\/fhir\//, '')), chart.resources as never);
            return body === null ? [404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] }] : [200, body];
          });

        const post = async (body: object) => {
          const res = await request(freshApp()).post(`/cds-services/${SERVICE[hook]}`).send(body);
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          return res.body as { cards: unknown[] };
        };
        const fromPrefetch = await post(full);
        const { prefetch: _p, ...bare } = full;
        const fromServer = await post({ ...bare, ...auth });
        const mixed = await post({ ...bare, ...auth, prefetch: Object.fromEntries(keys.filter((_k, i) => i % 2 === 0).map((k) => [k, prefetch[k]])) });
        expect(server.isDone()).toBe(true);
        expect(served).toBeGreaterThanOrEqual(keys.length);
        if (fromPrefetch.cards.length > 0) withCards++;

        expect(fromServer).toEqual(fromPrefetch);
        expect(mixed).toEqual(fromPrefetch);
      });
    }
  }
});

describe('a failing or hanging FHIR server with the shipped ruleset', () => {
  const { chart } = charts.find((c) => c.file === 'clean-milrinone.json')!;
  const bare = () => {
    const { prefetch: _p, ...rest } = buildRequest(chart, { hook: 'order-sign' } as Scenario, ruleset.requirements('order-sign'), new Date());
    return { ...rest, fhirServer: FHIR, fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'cds' } };
  };
  /** The app with the default FHIR budget (400 ms) and per-request timeout (300 ms). */
  const appWithDefaults = () =>
    createApp({
      config: testConfig({ FHIR_SERVER_ALLOWLIST: [FHIR] }),
      logger: createLogger({ LOG_LEVEL: 'silent' }, logCapture().stream),
      rules: staticSource(ruleset),
      stores: memoryStores(testConfig()),
    });

  it('answers 200 with a DQ-FETCH card naming the key that hung, within the budget', async () => {
    nock('https://ehr.test')
      .persist()
      .get(/^\/fhir\/Condition/)
      .delay(3000)
      .reply(200, {})
      .get(/^\/fhir\//)
      .reply((uri) => [200, answer(decodeURIComponent(uri.slice('/fhir/'.length)), chart.resources as never) ?? {}]);
    const started = performance.now();
    const res = await request(appWithDefaults()).post('/cds-services/inotrope-order-sign').send(bare()).expect(200);
    expect(performance.now() - started).toBeLessThan(1000);
    const dq = (res.body.cards as { summary: string; extension?: Record<string, { id: string }> }[]).filter(
      (c) => c.extension?.['org.inotrope-cds.rule']?.id === 'DQ-FETCH',
    );
    expect(dq).toHaveLength(1);
    // On a busy machine other keys may time out too; the hung one must be named either way.
    expect(dq[0]!.summary).toMatch(/^Inotrope checks incomplete — could not read: .*Active conditions \(the FHIR server did not answer in time\)/);
  });

  it('answers 412 within the budget when every key fails', async () => {
    nock('https://ehr.test').persist().get(/.*/).reply(503);
    const started = performance.now();
    const res = await request(appWithDefaults()).post('/cds-services/inotrope-order-sign').send(bare()).expect(412);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(res.body.error).toBe('precondition-failed');
  });
});
