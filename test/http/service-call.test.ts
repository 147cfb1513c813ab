import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { makeApp } from '../helpers.js';
import { hookResponseSchema } from '../../src/cds/response-schema.js';
import { buildRequest } from '../../src/scenarios/build-request.js';
import { chartSchema } from '../../src/rules/scenarios/scenario-schema.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../fixtures/cds-hooks-examples');
const readExample = (rel: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(EXAMPLES, rel), 'utf8')) as Record<string, unknown>;

const HOOK_INSTANCE = 'b4f2a7c0-6d1e-4f55-9a0b-2c3d4e5f6a7b';

/** Wraps a Hook Library context fragment into a full request body. */
const wrap = (hook: string, fragment: string) => ({
  hook,
  hookInstance: HOOK_INSTANCE,
  ...readExample(fragment),
});

const SERVICE = {
  'order-select': 'inotrope-order-select',
  'order-sign': 'inotrope-order-sign',
  'patient-view': 'inotrope-patient-view',
  'encounter-discharge': 'inotrope-encounter-discharge',
} as const;

/** The Hook Library's encounter-discharge context example (build.fhir.org/ig/HL7/cds-hooks-library/encounter-discharge.html). */
const dischargeContext = () => ({ userId: 'PractitionerRole/A2340113', patientId: '1288992', encounterId: '456' });
const discharge = (context: Record<string, unknown>) => ({ hook: 'encounter-discharge', hookInstance: HOOK_INSTANCE, context });

describe('POST /cds-services/{id}: official examples', () => {
  const valid: [string, keyof typeof SERVICE, () => Record<string, unknown>][] = [
    ['spec-stu2 patient-view request', 'patient-view', () => readExample('spec-stu2/request-patient-view.json')],
    ['cds-hooks.org radiology order-select', 'order-select', () => readExample('cds-hooks-org-examples/radiology-order-select-request.json')],
    ['Inferno CRD order-select', 'order-select', () => readExample('peer-fixtures/inferno-crd-order-select-request.json')],
    ['Inferno CRD order-sign', 'order-sign', () => readExample('peer-fixtures/inferno-crd-order-sign-request.json')],
    ['Hook Library order-select R4', 'order-select', () => wrap('order-select', 'hook-library-stu1/order-select-context-r4.json')],
    ['Hook Library order-select R4 (Bundle with type)', 'order-select', () => wrap('order-select', 'hook-library-stu1/order-select-context-r4.main-branch.json')],
    ['Hook Library order-sign R4', 'order-sign', () => wrap('order-sign', 'hook-library-stu1/order-sign-context-r4.json')],
    ['Hook Library order-sign R4 (Bundle with type)', 'order-sign', () => wrap('order-sign', 'hook-library-stu1/order-sign-context-r4.main-branch.json')],
    ['Hook Library patient-view 1', 'patient-view', () => wrap('patient-view', 'hook-library-stu1/patient-view-context-1.json')],
    ['Hook Library patient-view 2', 'patient-view', () => wrap('patient-view', 'hook-library-stu1/patient-view-context-2.json')],
    ['Hook Library encounter-discharge', 'encounter-discharge', () => discharge(dischargeContext())],
  ];

  it.each(valid)('%s is accepted: 200 with a spec-valid body, or 412', async (_name, hook, body) => {
    const { app } = await makeApp();
    const res = await request(app).post(`/cds-services/${SERVICE[hook]}`).send(body());
    expect([200, 412]).toContain(res.status);
    if (res.status === 200) hookResponseSchema.parse(res.body);
    else expect(res.body).toMatchObject({ error: 'precondition-failed', message: expect.any(String) });
  });

  const invalid: [string, keyof typeof SERVICE, () => Record<string, unknown>, string][] = [
    ['patient-view without patientId', 'patient-view', () => readExample('spec-stu2/request-patient-view-with-extension.json'), '/context/patientId'],
    ['legacy opioid order-sign (medications array, no draftOrders)', 'order-sign', () => readExample('cds-hooks-org-examples/opioid-order-sign-request.LEGACY-NONCONFORMANT.json'), '/context/draftOrders'],
    ['DSTU2 order-sign (MedicationOrder)', 'order-sign', () => wrap('order-sign', 'hook-library-stu1/order-sign-context-dstu2.json'), '/context/draftOrders'],
    ['DSTU2 order-select (MedicationOrder)', 'order-select', () => wrap('order-select', 'hook-library-stu1/order-select-context-dstu2.json'), '/context/draftOrders'],
    ['deprecated medication-prescribe hook', 'order-sign', () => wrap('medication-prescribe', 'hook-library-stu1/medication-prescribe-context-stu3.json'), '/hook'],
    ['encounter-discharge without encounterId', 'encounter-discharge', () => discharge({ ...dischargeContext(), encounterId: undefined }), '/context/encounterId'],
    ['encounter-discharge with an encounterId that is not a plain id', 'encounter-discharge', () => discharge({ ...dischargeContext(), encounterId: 'Encounter/456' }), '/context/encounterId'],
    ['encounter-discharge by a patient (the hook expects a clinician)', 'encounter-discharge', () => discharge({ ...dischargeContext(), userId: 'Patient/1288992' }), '/context/userId'],
    ['encounter-discharge without patientId', 'encounter-discharge', () => discharge({ ...dischargeContext(), patientId: undefined }), '/context/patientId'],
  ];

  it.each(invalid)('%s gets a 400 naming the field', async (_name, hook, body, pointer) => {
    const { app } = await makeApp();
    const res = await request(app).post(`/cds-services/${SERVICE[hook]}`).send(body());
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid-request', pointer });
  });
});

describe('POST /cds-services/{id}: protocol errors', () => {
  const minimal = () => ({
    hook: 'patient-view',
    hookInstance: HOOK_INSTANCE,
    context: { userId: 'Practitioner/abc', patientId: '1288992' },
    prefetch: {},
  });

  /** A full patient-view request for the synthetic patient with no inotrope, prefetch answered from the chart. */
  const noInotrope = (ruleset: Awaited<ReturnType<typeof makeApp>>['ruleset']) => {
    const chart = chartSchema.parse(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../rules/tests/patients/no-inotrope.json'), 'utf8')));
    const scenario = { name: 'no inotrope', patient: 'no-inotrope', hook: 'patient-view' as const, expect: {} };
    return buildRequest(chart, scenario, ruleset.requirements('patient-view'), new Date('2026-11-21T12:00:00Z'));
  };

  it('answers exactly {"cards": []} when there is nothing to say', async () => {
    const { app, ruleset } = await makeApp();
    const res = await request(app).post('/cds-services/inotrope-patient-view').send(noInotrope(ruleset));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
  });

  it('shows vital signs with their time of day in DISPLAY_TIME_ZONE, the hospital\'s clock, not the server\'s', async () => {
    const chart = chartSchema.parse(JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../rules/tests/patients/clean-milrinone.json'), 'utf8')));
    const scenario = {
      name: 'tachycardia',
      patient: 'clean-milrinone',
      hook: 'order-sign' as const,
      add: { observations: [{ code: '8867-4', value: 126, unit: '/min', ago: '30min' }] },
      expect: {},
    };
    const summaries = async (zone: string) => {
      const { app, ruleset } = await makeApp({ DISPLAY_TIME_ZONE: zone });
      const body = buildRequest(chart, scenario, ruleset.requirements('order-sign'), new Date('2026-11-21T12:00:00Z'));
      const res = await request(app).post('/cds-services/inotrope-order-sign').send(body).expect(200);
      return (res.body as { cards: { summary: string }[] }).cards.map((c) => c.summary).join('\n');
    };
    expect(await summaries('America/Chicago')).toContain('Heart rate 126/min (2026-11-21 05:30 CST)');
    expect(await summaries('UTC')).toContain('Heart rate 126/min (2026-11-21 11:30 UTC)');
  });

  it('404 for an unknown service and for GET on a service', async () => {
    const { app } = await makeApp();
    const unknown = await request(app).post('/cds-services/patient-greeting').send(minimal());
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'not-found' });
    const get = await request(app).get('/cds-services/inotrope-patient-view');
    expect(get.status).toBe(404);
  });

  it('400 when the hook does not match the service', async () => {
    const { app } = await makeApp();
    const res = await request(app).post('/cds-services/inotrope-order-sign').send(minimal());
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ pointer: '/hook' });
  });

  it('400 for a hookInstance that is not a uuid, naming the field', async () => {
    const { app } = await makeApp();
    const res = await request(app).post('/cds-services/inotrope-patient-view').send({ ...minimal(), hookInstance: 'abc' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid-request', pointer: '/hookInstance' });
  });

  it('400 when fhirAuthorization comes without fhirServer', async () => {
    const { app } = await makeApp();
    const res = await request(app)
      .post('/cds-services/inotrope-patient-view')
      .send({ ...minimal(), fhirAuthorization: { access_token: 'secret-token-123', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ pointer: '/fhirServer' });
    expect(JSON.stringify(res.body)).not.toContain('secret-token-123');
  });

  it('400 for a selection that is not among the draft orders', async () => {
    const { app } = await makeApp();
    const body = wrap('order-select', 'hook-library-stu1/order-select-context-r4.json') as unknown as { context: { selections: string[] } };
    body.context.selections = ['MedicationRequest/not-there'];
    const res = await request(app).post('/cds-services/inotrope-order-select').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ pointer: '/context/selections/0' });
  });

  it('400 for a body that is not valid JSON, without echoing it', async () => {
    const { app } = await makeApp();
    const res = await request(app).post('/cds-services/inotrope-patient-view').set('content-type', 'application/json').send('{"hook": "patient-view", "patientId": "SECRET-123",');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid-json' });
    expect(JSON.stringify(res.body)).not.toContain('SECRET-123');
  });

  it('415 for a body that is not JSON', async () => {
    const { app } = await makeApp();
    const res = await request(app).post('/cds-services/inotrope-patient-view').set('content-type', 'text/plain').send('hello');
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: 'unsupported-media-type' });
  });

  it('413 for a body above the limit', async () => {
    const { app } = await makeApp({ BODY_LIMIT_BYTES: 2048 });
    const res = await request(app)
      .post('/cds-services/inotrope-patient-view')
      .send({ ...minimal(), extension: { 'org.example.pad': 'x'.repeat(4096) } });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'payload-too-large' });
  });

  it('tolerates unknown fields and extensions', async () => {
    const { app, ruleset } = await makeApp();
    const res = await request(app)
      .post('/cds-services/inotrope-patient-view')
      .send({ ...noInotrope(ruleset), extension: { 'com.example.x': { a: 1 } }, somethingNew: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
  });

  it('never logs the request body, patient id or token', async () => {
    const { app, logs } = await makeApp({}, { logLevel: 'trace' });
    await request(app)
      .post('/cds-services/inotrope-patient-view')
      .send({ ...minimal(), context: { userId: 'Practitioner/abc', patientId: 'PATIENT-SECRET-42' } });
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain('PATIENT-SECRET-42');
    const line = JSON.parse(logs.find((l) => l.includes('"route"'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ service: 'inotrope-patient-view', hook: 'patient-view', route: '/cds-services/:id' });
  });
});

describe('health', () => {
  it('/healthz is alive and /readyz names the ruleset', async () => {
    const { app, ruleset } = await makeApp();
    await request(app).get('/healthz').expect(200, { status: 'ok' });
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ status: 'ready', ruleset: { version: ruleset.version } });
  });
});
