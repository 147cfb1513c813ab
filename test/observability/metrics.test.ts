import { describe, expect, it } from 'vitest';
import request from 'supertest';
import nock from 'nock';
import { testConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createApp } from '../../src/http/app.js';
import { Metrics } from '../../src/observability/metrics.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import type { Ruleset } from '../../src/rules/ruleset.js';
import { ReloadingRulesetSource } from '../../src/rules/reloading-source.js';
import { logCapture, staticSource, useNockPerTest } from '../helpers.js';
import { ISS, newKey, signToken, writeClientsFile, BASE, SERVICE_PATH } from '../security/security-helpers.js';

const FHIR = 'https://fhir.example.org/r4';
// Recognisable patient data: none of it may ever reach a metric label.
const PATIENT_ID = 'pat-Quixote-4711';
const PATIENT_NAME = 'Zebedee';

/**
 * A ruleset double whose data needs and firings are known, so every series gets a sample: the
 * patient comes from the FHIR server (fetch series), two dose limits fire and are returned as one
 * reconciled card, and one silent rule fires.
 */
const ruleset: Ruleset = {
  version: 'sha256-0123abcd',
  loadedAt: '2026-11-21T10:00:00.000Z',
  counts: { active: 1, silent: 1, retired: 0 },
  requirements: () => [
    { key: 'patient', label: 'Patient', template: 'Patient/{{context.patientId}}', resourceType: 'Patient', paging: 'latest' },
  ],
  evaluate: async () => ({
    cards: [
      {
        uuid: '5f0e2a4c-4b1e-4c1a-9a51-6a7a1f0f2b11',
        summary: 'Milrinone rate above the renal dose',
        indicator: 'warning',
        source: { label: 'inotrope-cds', topic: { system: 'urn:inotrope-cds:card-category', code: 'dosing' } },
      },
    ],
    fired: [
      { id: 'milrinone-renal-dose', version: '1.0.0', status: 'active', category: 'dosing', indicator: 'warning' },
      { id: 'milrinone-max-dose', version: '1.0.0', status: 'active', category: 'dosing', indicator: 'warning' },
      { id: 'shadow-potassium-check', version: '0.1.0', status: 'silent', category: 'monitoring', indicator: 'info' },
    ],
  }),
  explain: () => Promise.reject(new Error('not used: no hook call explains')),
};

function build(overrides: Parameters<typeof testConfig>[0] = {}, rules: Ruleset = ruleset) {
  const config = testConfig({ FHIR_SERVER_ALLOWLIST: [FHIR], ...overrides });
  const metrics = new Metrics();
  const capture = logCapture();
  const app = createApp({ config, logger: createLogger({ LOG_LEVEL: 'info' }, capture.stream), rules: staticSource(rules), metrics, stores: memoryStores(config) });
  return { app, metrics, logs: capture.lines };
}

const hookCall = {
  hook: 'patient-view',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  fhirServer: FHIR,
  fhirAuthorization: { access_token: 'secret-token-xyz', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' },
  context: { userId: 'Practitioner/dr-1', patientId: PATIENT_ID },
};

useNockPerTest();

describe('GET /metrics', () => {
  it('serves every series, with samples after a hook call', async () => {
    nock(FHIR)
      .get(`/Patient/${PATIENT_ID}`)
      .reply(200, { resourceType: 'Patient', id: PATIENT_ID, name: [{ family: PATIENT_NAME, given: ['Ada'] }], birthDate: '1950-01-01' });
    const { app } = build();
    await request(app).post('/cds-services/inotrope-patient-view').send(hookCall).expect(200);

    const res = await request(app).get('/metrics').expect(200);
    expect(res.type).toBe('text/plain');
    const text = res.text;
    for (const name of [
      'http_request_duration_seconds',
      'cds_hook_evaluation_duration_seconds',
      'cds_fhir_fetch_duration_seconds',
      'cds_cards_total',
      'cds_silent_rule_firings_total',
      'cds_rule_load_errors_total',
      'cds_auth_failures_total',
      'cds_ruleset_info',
      'cds_card_feedback_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/cds-services\/:id",status="200"\} 1/);
    expect(text).toMatch(/cds_hook_evaluation_duration_seconds_count\{service="inotrope-patient-view",outcome="ok"\} 1/);
    expect(text).toMatch(/cds_fhir_fetch_duration_seconds_count\{resource_type="Patient",source="fhir-server",outcome="ok"\} 1/);
    // Cards returned, not rules fired: the two dose limits came back as one card.
    expect(text).toMatch(/cds_cards_total\{service="inotrope-patient-view",category="dosing",indicator="warning"\} 1/);
    expect(text).toMatch(/cds_silent_rule_firings_total\{rule="shadow-potassium-check"\} 1/);
    expect(text).toMatch(/cds_ruleset_info\{version="sha256-0123abcd"\} 1/);
    expect(text).toMatch(/cds_rule_load_errors_total 0/);
  });

  it('never puts patient data, tokens or raw paths in a label', async () => {
    nock(FHIR)
      .get(`/Patient/${PATIENT_ID}`)
      .reply(200, { resourceType: 'Patient', id: PATIENT_ID, name: [{ family: PATIENT_NAME }] });
    const { app, metrics } = build();
    await request(app).post('/cds-services/inotrope-patient-view').send(hookCall).expect(200);
    // Unknown paths and odd methods carrying patient data must collapse to fixed labels.
    await request(app).get(`/Patient/${PATIENT_ID}?name=${PATIENT_NAME}`).expect(404);
    await request(app).post(`/cds-services/${PATIENT_ID}`).send(hookCall).expect(404);
    metrics.authFailure(`bad token for ${PATIENT_NAME} ${PATIENT_ID}`);

    const { text } = await request(app).get('/metrics').expect(200);
    for (const secret of [PATIENT_ID, PATIENT_NAME, 'Quixote', 'secret-token-xyz', 'Practitioner', 'dr-1']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('cds_auth_failures_total{reason="other"} 1');
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/);
  });

  it('counts a data-unavailable outcome and a failed fetch by resource type', async () => {
    nock(FHIR).get(`/Patient/${PATIENT_ID}`).reply(500, 'boom');
    const { app } = build();
    const res = await request(app).post('/cds-services/inotrope-patient-view').send(hookCall);
    const { text } = await request(app).get('/metrics').expect(200);
    const outcome = res.status === 412 ? 'data-unavailable' : 'ok';
    expect(text).toMatch(new RegExp(`cds_hook_evaluation_duration_seconds_count\\{service="inotrope-patient-view",outcome="${outcome}"\\} 1`));
    expect(text).toMatch(new RegExp(`http_request_duration_seconds_count\\{method="POST",route="/cds-services/:id",status="${res.status}"\\} 1`));
  });

  it('labels each request by its route template, also when an error handler answers it', async () => {
    const { app } = build();
    await request(app).get('/cds-services').expect(200);
    await request(app).post('/cds-services/no-such-service').send(hookCall).expect(404);
    await request(app).get('/cds-services/inotrope-patient-view/x/y').expect(404);
    const { text } = await request(app).get('/metrics').expect(200);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/cds-services\/",status="200"\} 1/);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/cds-services\/:id",status="404"\} 1/);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/);
    expect(text).not.toContain('no-such-service');
  });

  it('keeps one registry per app and can be turned off', async () => {
    const a = build();
    const b = build({ METRICS_ENABLED: 'off' });
    await request(a.app).get('/healthz').expect(200);
    await request(b.app).get('/metrics').expect(404);
    const { text } = await request(a.app).get('/metrics').expect(200);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
    expect(await b.metrics.registry.getSingleMetricAsString('http_request_duration_seconds')).toContain(
      'route="unmatched",status="404"',
    );
  });

  it('adds process metrics when asked (production)', async () => {
    const metrics = new Metrics({ defaultMetrics: true });
    const { body } = await metrics.exposition();
    expect(body).toContain('process_resident_memory_bytes');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('counts auth failures by reason', async () => {
    const key = await newKey();
    const clientsFile = writeClientsFile({ clients: [{ iss: ISS, jwks: { keys: [key.publicJwk] }, fhirServers: [FHIR] }] });
    const { app } = build({ CDS_AUTH: 'on', PUBLIC_BASE_URL: BASE, CDS_CLIENTS_FILE: clientsFile });
    await request(app).post(SERVICE_PATH).send(hookCall).expect(401);
    const expired = await signToken(key, { iat: 1_000, exp: 1_300 });
    await request(app).post(SERVICE_PATH).set('authorization', `Bearer ${expired}`).send(hookCall).expect(401);
    const { text } = await request(app).get('/metrics').expect(200);
    expect(text).toContain('cds_auth_failures_total{reason="missing-token"} 1');
    expect(text).toContain('cds_auth_failures_total{reason="expired"} 1');
    expect(text).not.toContain(expired);
  });

  it('counts rule load errors reported by the reloading ruleset source', async () => {
    const metrics = new Metrics();
    let fail = false;
    const created = await ReloadingRulesetSource.create({
      dir: 'unused',
      logger: createLogger({ LOG_LEVEL: 'silent' }),
      watch: false,
      onReload: (event) => {
        if (!event.ok) metrics.ruleLoadError();
      },
      read: async () => (fail ? { ok: false, errors: [{ file: 'rules/x.json', pointer: '', message: 'broken' }] } : { ok: true, ruleset }),
    });
    if (!created.ok) throw new Error('the initial ruleset must load');
    const app = createApp({ config: testConfig(), logger: createLogger({ LOG_LEVEL: 'silent' }), rules: created.source, metrics, stores: memoryStores(testConfig()) });
    fail = true;
    await created.source.reload('test');
    await created.source.reload('test');
    const { text } = await request(app).get('/metrics').expect(200);
    expect(text).toContain('cds_rule_load_errors_total 2');
    // The previous ruleset keeps serving, and the info metric says which.
    expect(text).toContain('cds_ruleset_info{version="sha256-0123abcd"} 1');
  });
});

describe('card feedback', () => {
  it('counts feedback per rule, outcome and whether this replica could attribute it', async () => {
    const CARD = '3f1a9c2e-7b4d-4e8f-9a01-23456789abcd';
    const withCard: Ruleset = {
      ...ruleset,
      evaluate: async () => ({
        cards: [
          {
            uuid: CARD,
            summary: 'Potassium low',
            indicator: 'warning',
            source: { label: 'inotrope-cds' },
            extension: { 'org.inotrope-cds.rule': { id: 'CI-HYPOKALEMIA', version: '1.1.0' } },
          },
        ],
        fired: [{ id: 'CI-HYPOKALEMIA', version: '1.1.0', status: 'active', category: 'precaution', indicator: 'warning' }],
      }),
    };
    nock(FHIR).get(`/Patient/${PATIENT_ID}`).reply(200, { resourceType: 'Patient', id: PATIENT_ID });
    const { app } = build({}, withCard);
    await request(app).post('/cds-services/inotrope-patient-view').send(hookCall).expect(200);
    const item = (card: string) => ({
      card,
      outcome: 'overridden',
      overrideReason: { reason: { system: 'urn:inotrope-cds:override-reason', code: 'benefit-outweighs-risk' }, userComment: PATIENT_NAME },
      outcomeTimestamp: '2026-11-21T12:01:00Z',
    });
    const feedback = { feedback: [item(CARD), item(CARD), item('00000000-0000-4000-8000-00000000ffff')] };
    await request(app).post('/cds-services/inotrope-patient-view/feedback').send(feedback).expect(200);
    const { text } = await request(app).get('/metrics').expect(200);
    expect(text).toContain('cds_card_feedback_total{rule="CI-HYPOKALEMIA",outcome="overridden",result="recorded"} 1');
    expect(text).toContain('cds_card_feedback_total{rule="CI-HYPOKALEMIA",outcome="overridden",result="duplicate"} 1');
    expect(text).toContain('cds_card_feedback_total{rule="unknown",outcome="overridden",result="unknown-card"} 1');
    expect(text).not.toContain(PATIENT_NAME);
  });
});

describe('request log', () => {
  it('writes one JSON line per request with id, service, duration, status and card count', async () => {
    nock(FHIR).get(`/Patient/${PATIENT_ID}`).reply(200, { resourceType: 'Patient', id: PATIENT_ID });
    const { app, logs } = build();
    await request(app).post('/cds-services/inotrope-patient-view').set('x-request-id', 'req-42').send(hookCall).expect(200);
    const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: 'req-42', service: 'inotrope-patient-view', status: 200, cards: 1 });
    expect(typeof lines[0]!.durationMs).toBe('number');
    expect(logs.join('\n')).not.toContain(PATIENT_NAME);
  });
});
