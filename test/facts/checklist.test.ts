import type { Device } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { checklist, type ChecklistValue } from '../../src/facts/checklist.js';
import { condition, context, knowledge, medicationOrder, observation, patientData, quantity, serviceRequest, SNOMED, LOINC } from './builder.js';

/** The checklist fact (DISCH-CHECKLIST): documented, missing and to-confirm items for the subject order. */

const ITEMS = checklist.params.parse({
  items: [
    { id: 'goal', label: 'Goal of therapy', evidence: [{ conditions: 'palliative-care' }] },
    { id: 'referral', label: 'Home-infusion referral' },
    { id: 'line', label: 'Central line', evidence: [{ devices: 'central-venous-catheter' }] },
    { id: 'weight', label: 'Dosing weight', evidence: [{ observation: { valueSet: 'body-weight', maxAge: '7d' } }] },
    { id: 'pump', label: 'Pump programme', evidence: [{ pumpProgramme: true }] },
    { id: 'bmp', label: 'Home BMP', evidence: [{ serviceRequests: 'metabolic-panel-orders' }] },
    { id: 'cbc', label: 'Home CBC', evidence: [{ serviceRequests: 'metabolic-panel-orders' }], drugs: ['milrinone'] },
    { id: 'icd', label: 'Goals of care and ICD', appliesIf: [{ conditions: 'palliative-care' }] },
  ],
});

const PUMP = [
  { rateQuantity: quantity(0.375, 'ug/kg/min') },
  { rateQuantity: quantity(7.4, 'mL/h') },
];
const CVC: Device = { resourceType: 'Device', id: 'cvc', status: 'active', type: { coding: [{ system: SNOMED, code: '52124006' }] } };

function run(spec: Parameters<typeof patientData>[0], subject = medicationOrder({ origin: 'active', code: '1791840', doseAndRate: PUMP })): ChecklistValue {
  const data = patientData({ hook: 'encounter-discharge', orders: [subject], ...spec });
  return checklist.compute(ITEMS, context(data, { subject, knowledge: knowledge() }))!;
}

const ids = (entries: readonly { id: string }[]) => entries.map((e) => e.id);

describe('checklist fact', () => {
  it('nothing on record: coded items are missing, items without evidence are to confirm, conditional items are left out', () => {
    const value = run({});
    expect(ids(value.documented)).toEqual(['pump']);
    expect(value.missingIds).toEqual(['goal', 'line', 'weight', 'bmp', 'cbc']);
    expect(ids(value.toConfirm)).toEqual(['referral']);
    expect(value.documented[0]!.found).toBe('0.375 mcg/kg/min = 7.4 mL/h at 200 mcg/mL');
    expect(value.missingText).toBe('Goal of therapy; Central line; Dosing weight; Home BMP; Home CBC');
  });

  it('everything documented: each item says what documents it; the palliative plan brings the goals-of-care item', () => {
    const value = run({
      conditions: [condition('103735009')],
      devices: [CVC],
      observations: [observation({ code: '29463-7', value: 66, unit: 'kg', hoursAgo: 6 * 24 })],
      serviceRequests: [serviceRequest('24320-4')].map((s) => ({ ...s, code: { coding: [{ system: LOINC, code: '24320-4' }] } })),
    });
    expect(value.missingIds).toEqual([]);
    expect(ids(value.documented)).toEqual(['goal', 'line', 'weight', 'pump', 'bmp', 'cbc']);
    expect(value.documented.find((d) => d.id === 'line')!.display).toBe('Central line: Central venous catheter');
    expect(ids(value.toConfirm)).toEqual(['referral', 'icd']);
  });

  it('boundary: a weight 8 days old is outside 7 days; an inactive or mistaken device does not count', () => {
    const value = run({
      observations: [observation({ code: '29463-7', value: 66, unit: 'kg', hoursAgo: 8 * 24 })],
      devices: [{ ...CVC, status: 'inactive' }, { ...CVC, id: 'x', status: 'entered-in-error' }],
    });
    expect(value.missingIds).toContain('weight');
    expect(value.missingIds).toContain('line');
  });

  it('the pump programme needs a weight-based rate, a pump rate and the concentration', () => {
    const perKgOnly = run({}, medicationOrder({ origin: 'active', code: '1791840', doseAndRate: [PUMP[0]!] }));
    expect(perKgOnly.missingIds).toContain('pump');
    // The ingredient code alone carries no concentration.
    const noConcentration = run({}, medicationOrder({ origin: 'active', code: '52769', doseAndRate: PUMP }));
    expect(noConcentration.missingIds).toContain('pump');
  });

  it('drug-specific items apply only to that drug (no blood count item for dobutamine)', () => {
    const value = run({}, medicationOrder({ origin: 'active', code: '3616', doseAndRate: PUMP }));
    expect(value.missingIds).not.toContain('cbc');
  });

  it('refuses duplicate item ids and unknown evidence kinds', () => {
    expect(checklist.params.safeParse({ items: [{ id: 'a', label: 'A' }, { id: 'a', label: 'B' }] }).success).toBe(false);
    expect(checklist.params.safeParse({ items: [{ id: 'a', label: 'A', evidence: [{ procedures: 'x' }] }] }).success).toBe(false);
  });
});
