import type { MedicationRequest } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DataGap, MedicationOrder } from '../../src/shared/patient-data.js';
import { loadRuleset } from '../../src/rules/load.js';
import type { EvaluationInput, Ruleset } from '../../src/rules/ruleset.js';
import { FUROSEMIDE, HEART_FAILURE, MILRINONE, RXNORM, observation, order, patientData } from '../rules/patient-data.js';

/**
 * Who the shipped rules speak to (rule catalog, "Who is evaluated"): at order entry the inotrope being
 * ordered, an IV drug ordered while an inotrope runs (IV-line checks), and the running infusion's own
 * dose against today's renal function (rules marked alsoRunning); in patient-view, a running inotrope.
 * An unrelated order signed for a patient on a correctly dosed milrinone gets no cards.
 */

const NOW = new Date('2026-11-21T12:00:00Z');
const RECENT = '2026-11-21T08:00:00Z';
let ruleset: Ruleset;

beforeAll(async () => {
  ruleset = await loadRuleset('rules');
});

async function fired(data: EvaluationInput['data']): Promise<string[]> {
  let n = 0;
  const result = await ruleset.evaluate({ data, now: NOW, uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` });
  return result.cards.map((c) => (c.extension?.['org.inotrope-cds.rule'] as { id: string }).id).sort();
}

/** An oral drug order (no IV route, no IV product). */
function oral(id: string): MedicationOrder {
  const drug = { system: RXNORM, code: '161', display: 'acetaminophen' };
  const request: MedicationRequest = {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [drug] },
    dosageInstruction: [{ route: { coding: [{ system: 'http://snomed.info/sct', code: '26643006' }] } }],
  };
  return { request, codings: [drug], origin: 'draft', selected: true };
}

const runningMilrinone = order('m-active', MILRINONE, { origin: 'active', rate: 0.5 });
const runningFurosemide = order('f-active', FUROSEMIDE, { origin: 'active' });
const abnormal = new Map([
  observation('2823-3', 3.1, 'mmol/L', RECENT),
  observation('8867-4', 130, '/min', RECENT),
  observation('2951-2', 130, 'mmol/L', RECENT),
  observation('98979-8', 72, 'mL/min/{1.73_m2}', RECENT),
]);

describe('order entry for a patient on milrinone', () => {
  it('an unrelated oral order gets no cards, even with low potassium, tachycardia and a Y-site conflict running', async () => {
    const data = patientData({ medicationOrders: [oral('o1'), runningMilrinone, runningFurosemide], observationsByCode: abnormal, conditions: [HEART_FAILURE] });
    expect(await fired(data)).toEqual([]);
  });

  it('an unrelated order while renal function is unknown says the running milrinone could not be re-checked (never silent)', async () => {
    const noRenal = new Map([...abnormal].filter(([key]) => key !== 'http://loinc.org|98979-8'));
    const data = patientData({ medicationOrders: [oral('o1'), runningMilrinone], observationsByCode: noRenal, conditions: [HEART_FAILURE] });
    expect(await fired(data)).toEqual(['DQ-RENAL']);
  });

  it('a new IV furosemide order gets the Y-site check only (the shared-line reminder belongs to ordering the inotrope)', async () => {
    const data = patientData({ medicationOrders: [order('f1', FUROSEMIDE), runningMilrinone], observationsByCode: abnormal, conditions: [HEART_FAILURE] });
    expect(await fired(data)).toEqual(['IV-INCOMPATIBLE']);
  });

  it('a new milrinone order gets the patient checks', async () => {
    const data = patientData({ medicationOrders: [order('m1', MILRINONE, { rate: 0.5 })], observationsByCode: abnormal, conditions: [HEART_FAILURE] });
    expect(await fired(data)).toEqual(expect.arrayContaining(['CI-HYPOKALEMIA', 'CI-HYPONATREMIA', 'MON-TACHYCARDIA']));
  });
});

describe('patient-view', () => {
  it('speaks for a running milrinone infusion', async () => {
    const data = patientData({ hook: 'patient-view', medicationOrders: [runningMilrinone, runningFurosemide], observationsByCode: abnormal, conditions: [HEART_FAILURE] });
    expect(await fired(data)).toEqual(expect.arrayContaining(['CI-HYPOKALEMIA', 'IV-INCOMPATIBLE', 'MON-TACHYCARDIA']));
  });
});

describe('DQ-FETCH when the medication list could not be read', () => {
  const gap: DataGap = { key: 'medications', resourceType: 'MedicationRequest', reason: 'timeout', message: 'Active medication orders: the FHIR server did not answer in time' };

  it('speaks in patient-view: a running inotrope cannot be ruled out', async () => {
    expect(await fired(patientData({ hook: 'patient-view', gaps: [gap] }))).toEqual(['DQ-FETCH']);
  });

  it('speaks when an IV drug is being ordered: its line checks could not run', async () => {
    expect(await fired(patientData({ medicationOrders: [order('f1', FUROSEMIDE)], gaps: [gap] }))).toEqual(['DQ-FETCH']);
  });

  it('stays silent for an unrelated oral order', async () => {
    expect(await fired(patientData({ medicationOrders: [oral('o1')], gaps: [gap] }))).toEqual([]);
  });
});
