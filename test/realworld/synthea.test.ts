import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookRequirements } from '../../src/cds/handle-hook.js';
import { hookModule } from '../../src/cds/hooks/registry.js';
import { buildRequest } from '../../src/scenarios/build-request.js';
import { serveChart } from '../../src/scenarios/chart-server.js';
import type { Chart } from '../../src/rules/scenarios/scenario-schema.js';
import { ruleOf, type Card } from '../../src/shared/card.js';
import { makeApp } from '../helpers.js';
import { shiftDates } from '../../src/scenarios/time-shift.js';
import { resolveReferences } from './bundle-references.js';

/**
 * Real-world regression: four unmodified Synthea heart-failure charts (R4 transaction bundles, read
 * from ../shared/realworld), time-shifted so that the last observation is an hour before the app's
 * clock, answer order-sign for milrinone and dobutamine drafts with the cards a clinician would expect
 * — through the real app, once with the prefetch an EHR would send and once with none and the chart
 * on a loopback FHIR server. Both modes must give the same cards.
 */

const DIR = path.resolve(import.meta.dirname, '../../../shared/realworld/synthea');
const available = existsSync(DIR);
if (!available) console.warn(`Skipping the real-world Synthea suite: ${DIR} is absent (it is on CI and the team machines).`);

const NOW = new Date('2026-11-21T12:00:00Z');
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const URL_PATH = '/cds-services/inotrope-order-sign';

type Resource = Record<string, unknown> & { resourceType: string; id?: string };

/** The chart of one bundle as a FHIR server stores it (references resolved), every date moved so that its newest observation was an hour before NOW. */
function chartOf(file: string): Chart {
  const bundle = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as { entry: { fullUrl?: string; resource: Resource }[] };
  const stored = new Map(bundle.entry.flatMap((e) => (e.fullUrl && e.resource.id ? [[e.fullUrl, `${e.resource.resourceType}/${e.resource.id}`] as const] : [])));
  const resources = bundle.entry.map((e) => resolveReferences(e.resource, stored) as Resource);
  const newest = Math.max(
    ...resources.filter((r) => r.resourceType === 'Observation').map((r) => Date.parse(String(r.effectiveDateTime ?? r.issued))),
  );
  const shifted = shiftDates(resources, NOW.getTime() - 3_600_000 - newest) as Resource[];
  const patient = shifted.find((r) => r.resourceType === 'Patient')!;
  return { description: file, patientId: String(patient.id), resources: shifted };
}

/** A draft IV infusion order of the drug at a usual starting rate (mcg/kg/min). */
function draft(patientId: string, code: string, display: string, rate: number): Resource {
  return {
    resourceType: 'MedicationRequest',
    id: `draft-${code}`,
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: RXNORM, code, display }] },
    subject: { reference: `Patient/${patientId}` },
    authoredOn: new Date(NOW.getTime() - 300_000).toISOString(),
    dosageInstruction: [
      {
        route: { coding: [{ system: 'http://snomed.info/sct', code: '47625008' }] },
        doseAndRate: [{ rateQuantity: { value: rate, unit: 'mcg/kg/min', system: 'http://unitsofmeasure.org', code: 'ug/kg/min' } }],
      },
    ],
  };
}

const DRUGS = {
  milrinone: (patientId: string) => draft(patientId, '1791840', '100 ML milrinone lactate 0.2 MG/ML Injection', 0.375),
  dobutamine: (patientId: string) => draft(patientId, '309986', '250 ML dobutamine 2 MG/ML Injection', 2.5),
} as const;

/** What a clinician reads: rule, indicator and summary of each card, in order. */
function shown(cards: Card[]): string[] {
  return cards.map((c) => `${ruleOf(c)?.id} ${c.indicator}: ${c.summary}`);
}

describe.runIf(available)('real-world Synthea charts, order-sign', () => {
  const files = available ? readdirSync(DIR).filter((n) => n.endsWith('.json')) : [];
  const charts = new Map(files.map((f) => [f.split('_')[0]!, chartOf(f)]));
  // The only chart with a low eGFR is of a patient who died that day, so no card treats his order as therapy.
  // The same chart without the date of death shows what the renal check makes of its eGFR (19.8 mL/min).
  const dennis = charts.get('Dennis');
  if (dennis) {
    const alive = dennis.resources.map((r) => {
      if (r.resourceType !== 'Patient') return r;
      const { deceasedDateTime: _died, ...living } = r;
      return living;
    });
    charts.set('Dennis-alive', { ...dennis, resources: alive });
  }
  let app: Awaited<ReturnType<typeof makeApp>>;
  const servers: { url: string; close: () => Promise<void> }[] = [];
  const serverFor = new Map<string, string>();

  beforeAll(async () => {
    for (const [name, chart] of charts) {
      const server = await serveChart(chart.resources as Resource[]);
      servers.push(server);
      serverFor.set(name, server.url);
    }
    // The loopback servers are the EHR's; a generous budget keeps the cards independent of the machine's load.
    app = await makeApp({ FHIR_SERVER_ALLOWLIST: [...serverFor.values()], FHIR_BUDGET_MS: 20_000, FHIR_REQUEST_TIMEOUT_MS: 10_000, REQUEST_TIMEOUT_MS: 30_000 });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  /** The cards of one order-sign call for the chart, in prefetch mode and in fetch mode (asserted identical). */
  async function sign(name: string, drug: keyof typeof DRUGS): Promise<string[]> {
    const chart = { ...charts.get(name)!, draftOrders: [DRUGS[drug](charts.get(name)!.patientId)] };
    const scenario = { name, patient: name, hook: 'order-sign' as const, expect: {} };
    const withPrefetch = buildRequest(chart, scenario, hookRequirements(hookModule('order-sign'), app.ruleset), NOW);
    const { prefetch: _none, ...withoutPrefetch } = buildRequest(chart, scenario, [], NOW);
    const a = await request(app.app).post(URL_PATH).send(withPrefetch).expect(200);
    const b = await request(app.app).post(URL_PATH).send({ ...withoutPrefetch, fhirServer: serverFor.get(name) }).expect(200);
    const cards = shown(a.body.cards as Card[]);
    expect(shown(b.body.cards as Card[]), `${name}, ${drug}: fetch mode`).toEqual(cards);
    return cards;
  }
  const rules = (cards: string[]) => cards.map((c) => c.split(' ')[0]);

  it('finds the four charts', () => {
    expect(files.map((f) => f.split('_')[0]).sort()).toEqual(['Dennis', 'Jordan', 'Thanh', 'Tommy']);
  });

  // The newest eGFR is recorded in mL/min (read as per 1.73 m², as its LOINC code defines).
  it('Dennis had he lived (eGFR 19.8 mL/min the day before): milrinone gets the renal dose warning, or a card saying the check could not run', async () => {
    const cards = await sign('Dennis-alive', 'milrinone');
    expect(rules(cards)).not.toContain('DQ-DECEASED');
    expect(cards.some((c) => c.startsWith('DOSE-MIL-RENAL') || /renal|eGFR/i.test(c))).toBe(true);
  });

  for (const drug of ['milrinone', 'dobutamine'] as const) {
    it(`Dennis (heart failure, recorded as deceased): ${drug} is not checked as current therapy, and the card says why`, async () => {
      const cards = await sign('Dennis', drug);
      expect(cards).toEqual([expect.stringMatching(/^DQ-DECEASED warning: Record marks this patient as deceased/)]);
    });

    it(`Jordan (no heart failure on the problem list): ${drug} gets the "no heart failure" card`, async () => {
      const cards = await sign('Jordan', drug);
      expect(cards).toContainEqual(expect.stringMatching(/^ELIG-HF warning: No heart failure or cardiogenic shock on the problem list/));
    });

    it(`Thanh (chronic congestive heart failure, eGFR 83.8): ${drug} gets no false "no heart failure" card and no renal dose warning`, async () => {
      const cards = await sign('Thanh', drug);
      expect(rules(cards)).not.toContain('ELIG-HF');
      expect(rules(cards)).not.toContain('DOSE-MIL-RENAL');
    });

    it(`Tommy (chronic congestive heart failure, no eGFR): ${drug} gets no false "no heart failure" card`, async () => {
      const cards = await sign('Tommy', drug);
      expect(rules(cards)).not.toContain('ELIG-HF');
      expect(rules(cards)).not.toContain('DQ-DECEASED');
    });
  }
});
