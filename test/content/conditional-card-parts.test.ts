import type { ServiceRequest } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../src/shared/card.js';
import { loadRuleset } from '../../src/rules/load.js';
import type { EvaluationInput, Ruleset } from '../../src/rules/ruleset.js';
import { DOBUTAMINE, HEART_FAILURE, MILRINONE, observation, order, patientData, RXNORM } from '../rules/patient-data.js';

/**
 * The shipped rules' optional card parts (`escalate`, suggestion `when`): a card is as loud as the data
 * warrants, and offers only the actions that fix what was found.
 */

const NOW = new Date('2026-11-21T12:00:00Z');
const RECENT = '2026-11-21T08:00:00Z';
let ruleset: Ruleset;

beforeAll(async () => {
  ruleset = await loadRuleset('rules');
});

async function cards(data: EvaluationInput['data']): Promise<Map<string, Card>> {
  let n = 0;
  const result = await ruleset.evaluate({ data, now: NOW, uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` });
  return new Map(result.cards.map((c) => [(c.extension?.['org.inotrope-cds.rule'] as { id: string }).id, c]));
}

const weight = observation('29463-7', 80, 'kg', RECENT);

describe('DOSE-DOB-HIGH escalates above the highest reported rate', () => {
  it('is info above the usual 20 ug/kg/min', async () => {
    const card = (await cards(patientData({ medicationOrders: [order('d1', DOBUTAMINE, { rate: 25 })], conditions: [HEART_FAILURE] }))).get('DOSE-DOB-HIGH');
    expect(card?.indicator).toBe('info');
    expect(card?.overrideReasons).toBeUndefined();
  });

  it('is a warning with override reasons above 40 ug/kg/min', async () => {
    const card = (await cards(patientData({ medicationOrders: [order('d1', DOBUTAMINE, { rate: 45 })], conditions: [HEART_FAILURE] }))).get('DOSE-DOB-HIGH');
    expect(card?.indicator).toBe('warning');
    expect(card?.overrideReasons?.length).toBeGreaterThan(0);
  });
});

describe('DOSE-MIL-MAX offers the rate cap only when the rate is too high', () => {
  it('offers to set an over-maximum infusion to 0.75 ug/kg/min', async () => {
    const card = (await cards(patientData({ medicationOrders: [order('m1', MILRINONE, { rate: 0.9 })], observationsByCode: new Map([weight]) }))).get('DOSE-MIL-MAX');
    expect(card?.suggestions?.map((s) => s.actions?.[0]?.type)).toEqual(['update']);
    const resource = card?.suggestions?.[0]?.actions?.[0]?.resource as unknown as { dosageInstruction: { doseAndRate: { rateQuantity: { value: number } }[] }[] };
    expect(resource.dosageInstruction[0]!.doseAndRate[0]!.rateQuantity.value).toBe(0.75);
  });

  it('does not offer to raise the rate when only the loading dose is too high', async () => {
    const bolus = order('m1', MILRINONE, { rate: 0.5 });
    bolus.request.dosageInstruction![0]!.doseAndRate!.push({ doseQuantity: { value: 60, unit: 'ug/kg', system: 'http://unitsofmeasure.org', code: 'ug/kg' } });
    const card = (await cards(patientData({ medicationOrders: [bolus], observationsByCode: new Map([weight]) }))).get('DOSE-MIL-MAX');
    expect(card?.indicator).toBe('warning');
    expect(card?.suggestions).toBeUndefined();
    expect(card?.selectionBehavior).toBeUndefined();
  });
});

describe('MON-BASELINE-LABS proposes only the missing baseline orders', () => {
  it('proposes magnesium and a CBC when only those are missing for milrinone', async () => {
    const labs = new Map([observation('2823-3', 4.1, 'mmol/L', RECENT), observation('2160-0', 1.1, 'mg/dL', RECENT)]);
    const card = (await cards(patientData({ medicationOrders: [order('m1', MILRINONE, { rate: 0.5 })], observationsByCode: labs }))).get('MON-BASELINE-LABS');
    const codes = card?.suggestions?.map((s) => (s.actions?.[0]?.resource as unknown as { code: { coding: { code: string }[] } }).code.coding[0]!.code);
    expect(codes).toEqual(['19123-9', '58410-2']);
    expect(card?.selectionBehavior).toBe('any');
  });

  it('does not ask dobutamine patients for platelets', async () => {
    const labs = new Map([observation('2823-3', 4.1, 'mmol/L', RECENT), observation('19123-9', 2.0, 'mg/dL', RECENT), observation('2160-0', 1.1, 'mg/dL', RECENT)]);
    const result = await cards(patientData({ medicationOrders: [order('d1', DOBUTAMINE, { rate: 5 })], observationsByCode: labs }));
    expect(result.has('MON-BASELINE-LABS')).toBe(false);
  });
});

describe('MON-BASELINE-LABS counts a lab already ordered as on its way', () => {
  it('stays silent when the missing labs were ordered in this session', async () => {
    const subject = { reference: 'Patient/p1' };
    const lab = (system: string, code: string): ServiceRequest => ({ resourceType: 'ServiceRequest', status: 'draft', intent: 'order', subject, code: { coding: [{ system, code }] } });
    const data = patientData({
      medicationOrders: [order('m1', MILRINONE, { rate: 0.5 })],
      otherDraftOrders: [lab('http://loinc.org', '24320-4'), lab('http://snomed.info/sct', '38151008'), lab('http://loinc.org', '58410-2')],
    });
    expect((await cards(data)).has('MON-BASELINE-LABS')).toBe(false);
  });

  it('still asks for what no pending order covers', async () => {
    const subject = { reference: 'Patient/p1' };
    const data = patientData({
      medicationOrders: [order('m1', MILRINONE, { rate: 0.5 })],
      serviceRequests: [{ resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject, code: { coding: [{ system: 'http://loinc.org', code: '24320-4' }] } }],
    });
    const card = (await cards(data)).get('MON-BASELINE-LABS');
    expect(card?.suggestions?.map((s) => s.label)).toEqual(['Order serum magnesium', 'Order a CBC (platelets, for milrinone)']);
  });
});

describe('IV-SHARED-LINE notes speak only of the inotropes ordered', () => {
  const vancomycin = order('v1', { system: RXNORM, code: '11124', display: 'vancomycin' }, { origin: 'active' });
  const detail = async (...inotropes: ReturnType<typeof order>[]) =>
    (await cards(patientData({ medicationOrders: [...inotropes, vancomycin], conditions: [HEART_FAILURE] }))).get('IV-SHARED-LINE')?.detail ?? '';

  it('gives a milrinone order the milrinone diluents and no dobutamine sentence', async () => {
    const text = await detail(order('m1', MILRINONE, { rate: 0.5 }));
    expect(text).toContain('The milrinone label lists');
    expect(text).not.toMatch(/dobutamine/i);
  });

  it('gives a dobutamine order the dobutamine sentence and nothing about milrinone', async () => {
    const text = await detail(order('d1', DOBUTAMINE, { rate: 5 }));
    expect(text).toContain('Dobutamine must not be mixed with other drugs in the same solution');
    expect(text).not.toMatch(/milrinone/i);
  });

  it('gives both when both are ordered, each as its own paragraph at the end of the detail', async () => {
    const text = await detail(order('d1', DOBUTAMINE, { rate: 5 }), order('m1', MILRINONE, { rate: 0.5 }));
    expect(text.split('\n\n').slice(-2)).toEqual([
      'Dobutamine must not be mixed with other drugs in the same solution (US label).',
      'The milrinone label lists 0.45 % or 0.9 % sodium chloride and 5 % dextrose as its diluents.',
    ]);
  });
});

describe('a card links the labels of the drugs it speaks of (references with `when`)', () => {
  const lowPotassium = new Map([observation('2823-3', 3.1, 'mmol/L', RECENT)]);
  const links = async (...inotropes: ReturnType<typeof order>[]) => {
    const card = (await cards(patientData({ medicationOrders: inotropes, observationsByCode: lowPotassium, conditions: [HEART_FAILURE] }))).get('CI-HYPOKALEMIA');
    return { urls: (card?.links ?? []).map((l) => l.url).join(' '), source: card?.source.url ?? '' };
  };

  it('a milrinone order: the milrinone label, not the dobutamine one', async () => {
    const { urls, source } = await links(order('m1', MILRINONE, { rate: 0.5 }));
    expect(urls).toContain('8fd0f93a-6150-4020-b7ee-4b95b520f6ce');
    expect(urls).not.toMatch(/dobutamine/i);
    expect(source).toContain('8fd0f93a');
  });

  it('a dobutamine order: the dobutamine label, and the card source is it', async () => {
    const { urls, source } = await links(order('d1', DOBUTAMINE, { rate: 5 }));
    expect(urls).toMatch(/query=dobutamine/);
    expect(urls).not.toContain('8fd0f93a');
    expect(source).toMatch(/query=dobutamine/);
  });

  it('both ordered: both labels', async () => {
    const { urls } = await links(order('d1', DOBUTAMINE, { rate: 5 }), order('m1', MILRINONE, { rate: 0.5 }));
    expect(urls).toMatch(/query=dobutamine/);
    expect(urls).toContain('8fd0f93a');
  });
});
