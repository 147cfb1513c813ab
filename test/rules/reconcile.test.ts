import type { MedicationRequest } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { ruleOf, type Card } from '../../src/shared/card.js';
import { loadRuleset } from '../../src/rules/load.js';
import type { EvaluationInput, Ruleset } from '../../src/rules/ruleset.js';
import { HEART_FAILURE, observation, order, patientData } from './patient-data.js';

/**
 * Issue 14, error 1: at 0.8 mcg/kg/min with eGFR 35 the label maximum (0.75) and the renal table (0.33) both limit the
 * rate. The shipped rules answer one card proposing the lowest rate, naming both limits, and its update rewrites the
 * whole dosage consistently (pump rate recomputed, text regenerated).
 */

const NOW = new Date('2026-11-21T12:00:00Z');
const MILRINONE_BAG = { system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1791840', display: '100 ML milrinone lactate 0.2 MG/ML Injection' };
const UCUM = 'http://unitsofmeasure.org';
let ruleset: Ruleset;

beforeAll(async () => {
  ruleset = await loadRuleset('rules');
});

function input(rate: number, pumpUnit = 'mL/h'): EvaluationInput {
  const draft = order('m1', MILRINONE_BAG, { rate });
  const request = draft.request as MedicationRequest;
  request.dosageInstruction = [
    {
      text: `Milrinone ${rate} mcg/kg/min = ${(rate * 70 * 60) / 200} mL/h`,
      doseAndRate: [
        { type: { coding: [{ code: 'ordered' }] }, rateQuantity: { value: rate, unit: 'mcg/kg/min', system: UCUM, code: 'ug/kg/min' } },
        { type: { coding: [{ code: 'calculated' }] }, rateQuantity: { value: (rate * 70 * 60) / 200, unit: pumpUnit, ...(pumpUnit === 'mL/h' && { system: UCUM, code: 'mL/h' }) } },
      ],
    },
  ];
  const data = patientData({
    medicationOrders: [draft],
    conditions: [HEART_FAILURE],
    observationsByCode: new Map([observation('29463-7', 70, 'kg', '2026-11-21T08:00:00Z'), observation('33914-3', 35, 'mL/min/{1.73_m2}', '2026-11-21T06:00:00Z')]),
  });
  let n = 0;
  return { data, now: NOW, uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` };
}

const rateCards = (cards: Card[]) => cards.filter((c) => c.suggestions?.some((s) => s.actions?.some((a) => a.type === 'update')));

describe('several dose limits on one order', () => {
  it('give one card with the lowest rate, naming every limit, counted under the limiting rule with the others in also', async () => {
    const { cards } = await ruleset.evaluate(input(0.8));
    const dosing = rateCards(cards);
    expect(dosing).toHaveLength(1);
    const card = dosing[0]!;
    expect(ruleOf(card)).toMatchObject({ id: 'DOSE-MIL-RENAL', subject: 'MedicationRequest/m1', also: [{ id: 'DOSE-MIL-MAX', version: expect.any(String) }] });
    expect(cards.filter((c) => ruleOf(c)?.id === 'DOSE-MIL-MAX')).toEqual([]);
    expect(card.detail).toContain('Every dose limit that applies');
    expect(card.detail).toContain('0.75');
    expect(card.detail).toContain('renal dose 0.33');
    expect(card.suggestions!.filter((s) => s.isRecommended)).toHaveLength(1);
  });

  it('rewrite the whole dosage: the ordered rate, the pump rate from the same weight and concentration, and the text', async () => {
    const { cards } = await ruleset.evaluate(input(0.8));
    const update = rateCards(cards)[0]!.suggestions![0]!.actions![0]!;
    const dosage = (update.resource as unknown as MedicationRequest).dosageInstruction![0]!;
    expect(dosage.doseAndRate).toEqual([
      { type: { coding: [{ code: 'ordered' }] }, rateQuantity: { value: 0.33, unit: 'ug/kg/min', system: UCUM, code: 'ug/kg/min' } },
      { type: { coding: [{ code: 'calculated' }] }, rateQuantity: { value: 6.9, unit: 'mL/h', system: UCUM, code: 'mL/h' } },
    ]);
    expect(dosage.text).toBe('Milrinone 0.33 mcg/kg/min IV infusion = 6.9 mL/h');
  });

  it('recompute a pump rate the EHR spells "mL/hr" too, instead of dropping it', async () => {
    const { cards } = await ruleset.evaluate(input(0.8, 'mL/hr'));
    const update = rateCards(cards)[0]!.suggestions![0]!.actions![0]!;
    const dosage = (update.resource as unknown as MedicationRequest).dosageInstruction![0]!;
    expect(dosage.doseAndRate?.[1]?.rateQuantity).toEqual({ value: 6.9, unit: 'mL/h', system: UCUM, code: 'mL/h' });
    expect(dosage.text).toBe('Milrinone 0.33 mcg/kg/min IV infusion = 6.9 mL/h');
  });

  it('leave a single limit alone: below the maximum only the renal card, with no also', async () => {
    const { cards } = await ruleset.evaluate(input(0.5));
    const dosing = rateCards(cards);
    expect(dosing.map((c) => ruleOf(c)?.id)).toEqual(['DOSE-MIL-RENAL']);
    expect(ruleOf(dosing[0]!)?.also).toBeUndefined();
  });
});
