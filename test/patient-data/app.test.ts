import { describe, expect, it } from 'vitest';
import nock from 'nock';
import request from 'supertest';
import { testConfig, type Config } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import { createLogger } from '../../src/logger.js';
import type { Ruleset } from '../../src/rules/ruleset.js';
import type { PatientData } from '../../src/shared/patient-data.js';
import { logCapture, staticSource, useNockPerTest } from '../helpers.js';
import { CHART, chartServer, FHIR, ORIGIN, orderSign, PATIENT_ID, REQUIREMENTS, TOKEN } from './fixtures.js';

/**
 * The data layer through the real app (supertest), with a Ruleset double that needs REQUIREMENTS and
 * turns what it sees into cards: one naming the data it got, and a data-quality card per gap, as
 * DQ-FETCH does (rules/rules/data-quality.json).
 */

const URL_PATH = '/cds-services/inotrope-order-sign';

const ruleset: Ruleset = {
  version: 'test-double',
  loadedAt: '2026-11-21T00:00:00Z',
  counts: { active: 1, silent: 0, retired: 0 },
  requirements: () => REQUIREMENTS,
  evaluate: async ({ data, uuid }) => ({
    cards: [
      { uuid: uuid(), summary: summarise(data), indicator: 'info', source: { label: 'test' } },
      ...data.gaps.map((g) => ({ uuid: uuid(), summary: `Data could not be checked: ${g.message}`.slice(0, 139), indicator: 'warning' as const, source: { label: 'test' } })),
    ],
    fired: [],
  }),
  explain: () => Promise.reject(new Error('not used: no hook call explains')),
};

function summarise(data: PatientData): string {
  const obs = [...data.observationsByCode.entries()].map(([code, values]) => `${code.split('|')[1]}=${values.map((v) => v.valueQuantity?.value).join('/')}`);
  const drugs = data.medicationOrders.map((o) => `${o.origin}:${o.codings.map((c) => c.code).join('+')}`);
  return [data.patient?.gender, `${data.conditions.length} conditions`, ...obs, ...drugs].join('; ');
}

function app(overrides: Partial<Config> = {}) {
  const capture = logCapture();
  let n = 0;
  const instance = createApp({
    config: testConfig({ FHIR_SERVER_ALLOWLIST: [FHIR], ...overrides }),
    logger: createLogger({ LOG_LEVEL: 'debug' }, capture.stream),
    rules: staticSource(ruleset),
    stores: memoryStores(testConfig()),
    now: () => new Date('2026-11-21T12:00:00Z'),
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
  return { app: instance, logs: capture.lines };
}

useNockPerTest();

describe('POST /cds-services/{id}: where the data comes from does not change the cards', () => {
  it('gives the same cards for full prefetch, no prefetch with a fhirServer, and a mix', async () => {
    const full = await request(app().app).post(URL_PATH).send(orderSign({ prefetch: CHART })).expect(200);

    const everything = chartServer(Object.keys(CHART), { delayMs: 100 });
    const fetched = await request(app().app).post(URL_PATH).send(orderSign({ fhirServer: FHIR })).expect(200);
    expect(everything.isDone()).toBe(true);

    const some = chartServer(['conditions', 'obs-potassium']);
    const { conditions: _c, 'obs-potassium': _o, ...part } = CHART;
    const mixed = await request(app().app).post(URL_PATH).send(orderSign({ fhirServer: FHIR, prefetch: part })).expect(200);
    expect(some.isDone()).toBe(true);

    expect(full.body.cards).toHaveLength(1);
    expect(full.body.cards[0].summary).toBe('female; 1 conditions; 6298-4=3.1/3.9; draft:52769; active:1812167+3616');
    expect(fetched.body).toEqual(full.body);
    expect(mixed.body).toEqual(full.body);
  });
});

describe('POST /cds-services/{id}: when data cannot be obtained', () => {
  it('answers 200 with the cards of the data it has and a gap naming the key prefetch lacks, when there is no fhirServer', async () => {
    const { conditions: _c, ...part } = CHART;
    const res = await request(app().app).post(URL_PATH).send(orderSign({ prefetch: part })).expect(200);
    expect(res.body.cards.map((c: { summary: string }) => c.summary)).toEqual([
      expect.stringContaining('male'),
      'Data could not be checked: Conditions (not sent with the request, and no FHIR server was given to read it from)',
    ]);
  });

  it('answers 200 when a key prefetch lacks cannot be fetched because the fhirServer is outside the allowlist, and sends it nothing', async () => {
    const outside = nock('https://elsewhere.test').get(/.*/).times(10).reply(200, CHART.patient!);
    const { conditions: _c, ...part } = CHART;
    const res = await request(app().app).post(URL_PATH).send(orderSign({ prefetch: part, fhirServer: 'https://elsewhere.test/fhir' })).expect(200);
    expect(res.body.cards.map((c: { summary: string }) => c.summary)).toContain(
      "Data could not be checked: Conditions (not sent with the request, and the FHIR server is not on this service's allowlist)",
    );
    expect(outside.pendingMocks()).toHaveLength(1);
    expect(outside.isDone()).toBe(false);
  });

  it('answers 412 for a fhirServer outside the allowlist when nothing was prefetched, and sends it nothing', async () => {
    const outside = nock('https://elsewhere.test').get(/.*/).times(10).reply(200, CHART.patient!);
    const res = await request(app().app).post(URL_PATH).send(orderSign({ fhirServer: 'https://elsewhere.test/fhir' })).expect(412);
    expect(res.body.message).toBe('No usable patient data could be obtained');
    expect(outside.pendingMocks()).toHaveLength(1);
    expect(outside.isDone()).toBe(false);
  });

  it('answers 412 within the budget when the FHIR server hangs and nothing was prefetched', async () => {
    nock(ORIGIN).get(/.*/).times(20).delay(3000).reply(200, {});
    const started = performance.now();
    const res = await request(app().app).post(URL_PATH).send(orderSign({ fhirServer: FHIR })).expect(412);
    expect(performance.now() - started).toBeLessThan(700);
    expect(res.body.details).toContain('Conditions (the FHIR server did not answer in time)');
  });

  it('answers 412 when the FHIR server refuses every key (401)', async () => {
    nock(ORIGIN).get(/.*/).times(20).reply(401);
    const res = await request(app().app).post(URL_PATH).send(orderSign({ fhirServer: FHIR })).expect(412);
    expect(res.body.message).toBe('No usable patient data could be obtained');
  });

  it('answers 200 with a data-quality card naming what could not be read when only part failed', async () => {
    chartServer(['patient', 'medications', 'obs-potassium']);
    nock(ORIGIN).get('/fhir/Condition').query(true).reply(500, 'Internal Server Error');
    const res = await request(app().app).post(URL_PATH).send(orderSign({ fhirServer: FHIR })).expect(200);
    expect(res.body.cards.map((c: { summary: string }) => c.summary)).toEqual([
      'female; 0 conditions; 6298-4=3.1/3.9; draft:52769; active:1812167+3616',
      'Data could not be checked: Conditions (the FHIR server failed, HTTP 500)',
    ]);
  });

  it('writes neither the access token nor the patient id to any log line', async () => {
    chartServer(['patient', 'medications']);
    nock(ORIGIN).get('/fhir/Condition').query(true).reply(403);
    nock(ORIGIN).get('/fhir/Observation').query(true).delay(1000).reply(200, {});
    const { app: instance, logs } = app();
    await request(instance).post(URL_PATH).send(orderSign({ fhirServer: FHIR })).expect(200);
    expect(logs.some((l) => l.includes('patient data gap'))).toBe(true);
    for (const line of logs) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(PATIENT_ID);
    }
  });
});
