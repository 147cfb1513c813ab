import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import nock from 'nock';
import request from 'supertest';
import { makeApp, useNockPerTest } from '../helpers.js';
import { hookResponseSchema } from '../../src/cds/response-schema.js';
import { hookModule } from '../../src/cds/hooks/registry.js';
import type { Hook } from '../../src/shared/hooks.js';
import { renderExamples } from '../../scripts/build-examples.js';
import { DEFAULT_NOW } from '../../src/scenarios/run-scenarios.js';

/**
 * Every request in examples/ (the README's and the demo's) goes through the real app and must get
 * valid cards from the rules we expect for that patient. The no-prefetch example must give the same
 * cards when the service reads the chart from the EHR's FHIR server instead of prefetch.
 */

const DIR = new URL('../../examples/', import.meta.url);

/** The rules each example's patient must trigger (see rules/tests/whole-patient.json for the same charts). */
const EXPECTED: Record<string, readonly string[]> = {
  'order-select-milrinone.json': ['CI-HYPOKALEMIA', 'CI-HYPONATREMIA', 'DOSE-MIL-RENAL', 'IV-INCOMPATIBLE', 'MON-TELEMETRY'],
  'order-sign-milrinone.json': ['CI-HYPOKALEMIA', 'CI-HYPONATREMIA', 'DOSE-MIL-RENAL', 'IV-INCOMPATIBLE', 'MON-TELEMETRY'],
  'order-sign-dobutamine-hocm.json': ['CI-HOCM'],
  'patient-view-active-milrinone.json': ['DUR-48H'],
  'encounter-discharge-home-milrinone.json': ['DISCH-CHECKLIST'],
  'order-sign-no-prefetch.json': ['CI-HYPOKALEMIA', 'CI-HYPONATREMIA', 'DOSE-MIL-RENAL', 'IV-INCOMPATIBLE', 'MON-TELEMETRY'],
};

interface Example {
  hook: Hook;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: { access_token: string };
  context: { patientId: string };
  prefetch?: Record<string, unknown>;
}

const read = (file: string) => JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Example;
const servicePath = (hook: Hook) => `/cds-services/${hookModule(hook).service.id}`;
const ruleIds = (body: { cards: { extension?: Record<string, { id?: string }> }[] }) =>
  body.cards.map((c) => c.extension?.['org.inotrope-cds.rule']?.id).sort();

useNockPerTest();

describe('examples/*.json', () => {
  it('has an expectation for every example file, and a file for every expectation', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('are what the patient charts build to (run `npm run examples:build` when this fails)', async () => {
    for (const [file, text] of await renderExamples()) {
      expect(readFileSync(new URL(file, DIR), 'utf8'), file).toBe(text);
    }
  });

  const withPrefetch = Object.keys(EXPECTED).filter((f) => f !== 'order-sign-no-prefetch.json');

  it('show the documented cards on any day: built with examples:build --now and answered by a service 30 days later', async () => {
    const later = new Date(Date.parse(DEFAULT_NOW) + 30 * 86_400_000);
    const { app } = await makeApp({}, { now: later });
    for (const [file, text] of await renderExamples(undefined, later)) {
      if (!withPrefetch.includes(file)) continue;
      const example = JSON.parse(text) as Example;
      const res = await request(app).post(servicePath(example.hook)).send(example);
      expect(res.status, file).toBe(200);
      expect(ruleIds(res.body as Parameters<typeof ruleIds>[0]), file).toEqual([...EXPECTED[file]!].sort());
    }
  });
  it.each(withPrefetch)('%s prefetches exactly the keys discovery advertises', async (file) => {
    const example = read(file);
    const { app } = await makeApp();
    const discovery = await request(app).get('/cds-services').expect(200);
    const service = (discovery.body.services as { hook: string; prefetch?: Record<string, string> }[]).find((s) => s.hook === example.hook)!;
    expect(Object.keys(example.prefetch ?? {}).sort()).toEqual(Object.keys(service.prefetch ?? {}).sort());
  });

  it.each(withPrefetch)('%s answers 200 with valid cards from the expected rules', async (file) => {
    const example = read(file);
    const { app } = await makeApp();
    const res = await request(app).post(servicePath(example.hook)).send(example).expect(200);
    const parsed = hookResponseSchema.safeParse(res.body);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(ruleIds(res.body)).toEqual([...EXPECTED[file]!].sort());
  });

  it('order-sign-no-prefetch.json: the chart read from the fhirServer gives the same cards as prefetch', async () => {
    const example = read('order-sign-no-prefetch.json');
    const prefetched = read('order-sign-milrinone.json');
    expect(example.prefetch).toBeUndefined();
    expect(example.context.patientId).toBe(prefetched.context.patientId);

    const { app: withPrefetch } = await makeApp();
    const expected = await request(withPrefetch).post(servicePath('order-sign')).send(prefetched).expect(200);

    // The FHIR server answers every advertised query with what the EHR would have prefetched.
    const { app, ruleset } = await makeApp({ FHIR_SERVER_ALLOWLIST: [example.fhirServer!] });
    const base = new URL(example.fhirServer!.replace(/\/?$/, '/'));
    const server = nock(base.origin, { reqheaders: { authorization: `Bearer ${example.fhirAuthorization!.access_token}` } });
    for (const requirement of ruleset.requirements('order-sign')) {
      const target = new URL(requirement.template.replaceAll('{{context.patientId}}', example.context.patientId), base);
      server.get(target.pathname).query(Object.fromEntries(target.searchParams)).reply(200, prefetched.prefetch![requirement.key] as object);
    }

    const res = await request(app).post(servicePath('order-sign')).send(example).expect(200);
    expect(server.isDone()).toBe(true);
    expect(ruleIds(res.body)).toEqual([...EXPECTED['order-sign-no-prefetch.json']!].sort());
    expect(res.body).toEqual(expected.body);
  });
});
