import { beforeAll, describe, expect, it } from 'vitest';
import { cardSchema, type Card } from '../../src/shared/card.js';
import type { DataGap } from '../../src/shared/patient-data.js';
import { loadRuleset } from '../../src/rules/load.js';
import type { EvaluationInput, Ruleset } from '../../src/rules/ruleset.js';
import { quantity } from '../facts/builder.js';
import { DOBUTAMINE, FUROSEMIDE, HEART_FAILURE, MILRINONE, observation, order, patientData } from './patient-data.js';

const NOW = new Date('2026-11-21T12:00:00Z');
let ruleset: Ruleset;

beforeAll(async () => {
  ruleset = await loadRuleset('test/fixtures/rules');
});

function input(data: EvaluationInput['data']): EvaluationInput {
  let n = 0;
  return { data, now: NOW, uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` };
}

const ruleOf = (card: Card) => (card.extension?.['org.inotrope-cds.rule'] as { id: string }).id;
const lowPotassium = new Map([observation('2823-3', 3.1, 'mmol/L', '2026-11-21T00:00:00Z')]);

describe('evaluating a ruleset', () => {
  it('returns no cards and evaluates nothing when there is no inotrope and every rule requires one', async () => {
    const result = await ruleset.evaluate(input(patientData({ medicationOrders: [order('f1', FUROSEMIDE)], observationsByCode: lowPotassium })));
    expect(result).toEqual({ cards: [], fired: [] });
  });

  it('still runs rules with requiresInotrope false when there is no inotrope', async () => {
    const gap: DataGap = { key: 'conditions', resourceType: 'Condition', reason: 'timeout', message: 'Conditions: the FHIR server did not answer in time' };
    const result = await ruleset.evaluate(input(patientData({ gaps: [gap] })));
    expect(result.cards.map(ruleOf)).toEqual(['T-DATA-GAPS']);
  });

  it('renders a patient-scoped card from its facts, threshold and references, valid per the CDS Hooks card schema', async () => {
    const result = await ruleset.evaluate(
      input(
        patientData({ hook: 'order-select', medicationOrders: [order('m1', MILRINONE, { rate: 0.5 })], observationsByCode: lowPotassium, conditions: [HEART_FAILURE] }),
      ),
    );
    expect(result.cards).toHaveLength(1);
    const card = result.cards[0]!;
    expect(() => cardSchema.parse(card)).not.toThrow();
    expect(card).toMatchObject({
      summary: 'Potassium 3.1 mmol/L is below 3.5 mmol/L: correct before milrinone',
      indicator: 'warning',
      source: {
        label: 'inotrope-cds (test)',
        url: 'https://example.org/milrinone',
        topic: { system: 'urn:inotrope-cds:card-category', code: 'contraindication', display: 'Contraindication' },
      },
      selectionBehavior: 'at-most-one',
      overrideReasons: [{ system: 'urn:inotrope-cds:override-reason', code: 'benefit-outweighs-risk', display: 'Benefit outweighs risk' }],
      links: [{ label: 'Label <LBL-MIL>', url: 'https://example.org/milrinone', type: 'absolute' }],
      extension: { 'org.inotrope-cds.rule': { id: 'T-HYPOKALEMIA', version: '1.0.0', ruleset: ruleset.version } },
    });
    // Values are escaped for markdown; the template's own markdown is kept.
    expect(card.detail).toBe('Latest potassium **3.1 mmol/L** on 2026-11-21; threshold 3.5 (72h). Code: http://loinc.org\\|2823-3');
    expect(card.suggestions).toEqual([
      {
        label: 'Order a basic metabolic panel',
        uuid: expect.stringMatching(/^0{8}-/),
        isRecommended: true,
        actions: [
          {
            type: 'create',
            description: 'Propose a BMP for patient p1',
            resource: expect.objectContaining({ resourceType: 'ServiceRequest', intent: 'proposal', subject: { reference: 'Patient/p1' } }),
          },
        ],
      },
    ]);
    expect(new Set([card.uuid, card.suggestions![0]!.uuid]).size).toBe(2);
  });

  it('offers no override reasons on info cards and omits suggestions and links when the rule has none', async () => {
    const result = await ruleset.evaluate(input(patientData({ hook: 'order-select', medicationOrders: [order('m1', MILRINONE, { rate: 0.5 })] })));
    const card = result.cards.find((c) => ruleOf(c) === 'T-NO-HF')!;
    expect(card).toEqual({
      uuid: expect.any(String),
      summary: 'No heart failure documented for milrinone',
      indicator: 'info',
      source: { label: 'inotrope-cds (test)', topic: { system: 'urn:inotrope-cds:card-category', code: 'eligibility', display: 'Eligibility' } },
      extension: { 'org.inotrope-cds.rule': { id: 'T-NO-HF', version: '1.0.0', ruleset: ruleset.version } },
    });
  });

  it('evaluates order-scoped rules once per subject order and turns suggestions into update and delete actions on the draft', async () => {
    const draft = order('m1', MILRINONE, { rate: 0.9 });
    const result = await ruleset.evaluate(input(patientData({ medicationOrders: [draft, order('m2', MILRINONE, { rate: 0.5 })], conditions: [HEART_FAILURE] })));
    const dosing = result.cards.filter((c) => ruleOf(c) === 'T-MIL-MAX');
    expect(dosing).toHaveLength(1);
    // Fired once: the 0.5 draft's order fact is its own, not the 0.9 draft's (a card copied from it would be de-duplicated).
    expect(result.fired.filter((f) => f.id === 'T-MIL-MAX')).toHaveLength(1);
    const card = dosing[0]!;
    expect(cardSchema.safeParse(card).success).toBe(true);
    expect(card.indicator).toBe('critical');
    expect(card.summary).toBe('milrinone at 0.9 mcg/kg/min is above 0.75 mcg/kg/min');
    expect(card.extension).toMatchObject({ 'org.inotrope-cds.rule': { id: 'T-MIL-MAX', version: '2.1.0', subject: 'MedicationRequest/m1' } });
    const [update, remove] = card.suggestions!.map((s) => s.actions![0]!);
    const expected = structuredClone(draft.request);
    expected.dosageInstruction![0]!.doseAndRate = [
      { rateQuantity: { value: 0.75, unit: 'ug/kg/min', system: 'http://unitsofmeasure.org', code: 'ug/kg/min' } },
    ];
    // The order text is rewritten with the rate, so it cannot contradict it.
    expected.dosageInstruction![0]!.text = 'Milrinone 0.75 mcg/kg/min IV infusion';
    expect(update).toEqual({ type: 'update', description: 'Change the rate to 0.75 mcg/kg/min', resource: expected });
    expect(remove).toEqual({ type: 'delete', description: 'Delete the draft milrinone order', resourceId: 'MedicationRequest/m1' });
    expect(draft.request.dosageInstruction![0]!.doseAndRate![0]!.rateQuantity!.value).toBe(0.9);
  });

  it('updates the rate in the infusion instruction, not a loading-dose instruction before it, and drops a contradicting pump rate', async () => {
    const draft = order('m1', MILRINONE);
    draft.request.dosageInstruction = [
      { sequence: 1, text: 'Loading dose', doseAndRate: [{ doseQuantity: quantity(50, 'ug/kg') }] },
      {
        sequence: 2,
        doseAndRate: [
          { type: { coding: [{ code: 'ordered' }] }, rateQuantity: quantity(0.9, 'ug/kg/min') },
          { type: { coding: [{ code: 'calculated' }] }, rateQuantity: quantity(18.9, 'mL/h') },
        ],
      },
    ];
    const result = await ruleset.evaluate(input(patientData({ medicationOrders: [draft], conditions: [HEART_FAILURE] })));
    const card = result.cards.find((c) => ruleOf(c) === 'T-MIL-MAX')!;
    const update = card.suggestions![0]!.actions![0]!;
    const dosages = (update.resource as unknown as { dosageInstruction: unknown[] }).dosageInstruction;
    expect(dosages[0]).toEqual(draft.request.dosageInstruction[0]);
    // Without a weight and concentration the pump rate cannot be recomputed, so it goes rather than contradict.
    expect(dosages[1]).toEqual({
      sequence: 2,
      text: 'Milrinone 0.75 mcg/kg/min IV infusion',
      doseAndRate: [{ type: { coding: [{ code: 'ordered' }] }, rateQuantity: quantity(0.75, 'ug/kg/min') }],
    });
  });

  it('drops suggestions that cannot act on the subject (an active order, or a draft without id)', async () => {
    const active = await ruleset.evaluate(
      input(patientData({ hook: 'patient-view', medicationOrders: [order('a1', MILRINONE, { origin: 'active', rate: 0.9 })] })),
    );
    const card = active.cards.find((c) => ruleOf(c) === 'T-MIL-MAX')!;
    expect(card.suggestions).toBeUndefined();
    expect(card.selectionBehavior).toBeUndefined();
    const noId = await ruleset.evaluate(input(patientData({ medicationOrders: [order(undefined, MILRINONE, { rate: 0.9 })], conditions: [HEART_FAILURE] })));
    expect(noId.cards.find((c) => ruleOf(c) === 'T-MIL-MAX')!.suggestions).toBeUndefined();
  });

  it('in order-select checks only the selected drafts', async () => {
    const result = await ruleset.evaluate(
      input(
        patientData({
          hook: 'order-select',
          conditions: [HEART_FAILURE],
          medicationOrders: [order('m1', MILRINONE, { rate: 0.9, selected: false }), order('m2', MILRINONE, { rate: 1.0 })],
        }),
      ),
    );
    expect(result.cards.map((c) => c.extension?.['org.inotrope-cds.rule'])).toEqual([expect.objectContaining({ id: 'T-MIL-MAX', subject: 'MedicationRequest/m2' })]);
  });

  it('returns identical cards from several subject orders once', async () => {
    const result = await ruleset.evaluate(
      input(patientData({ conditions: [HEART_FAILURE], medicationOrders: [order('m1', MILRINONE, { rate: 0.5 }), order('d1', DOBUTAMINE, { rate: 5 })] })),
    );
    expect(result.fired.filter((f) => f.id === 'T-EVERY-ORDER')).toHaveLength(2);
    expect(result.cards.filter((c) => ruleOf(c) === 'T-EVERY-ORDER')).toHaveLength(1);
  });

  it('raises the indicator when the escalate condition holds too, and offers a suggestion only when its own condition holds', async () => {
    const evaluate = (rate: number) =>
      ruleset.evaluate(input(patientData({ hook: 'order-select', conditions: [HEART_FAILURE], medicationOrders: [order('d1', DOBUTAMINE, { rate })] })));
    const usual = await evaluate(25);
    expect(usual.cards.map((c) => [ruleOf(c), c.indicator, c.suggestions?.map((s) => s.label)])).toEqual([
      ['T-DOB-HIGH', 'info', ['Set the rate to 20 mcg/kg/min']],
    ]);
    expect(usual.cards[0]!.overrideReasons).toBeUndefined();
    const high = await evaluate(45);
    expect(high.cards.map((c) => [ruleOf(c), c.indicator, c.suggestions?.map((s) => s.label)])).toEqual([
      ['T-DOB-HIGH', 'warning', ['Cancel the order', 'Set the rate to 20 mcg/kg/min']],
    ]);
    expect(high.cards[0]!.overrideReasons).toHaveLength(1);
    expect(high.fired).toContainEqual(expect.objectContaining({ id: 'T-DOB-HIGH', indicator: 'warning' }));
    expect(cardSchema.safeParse(high.cards[0]).success).toBe(true);
  });

  it('counts silent rules as fired but never returns their cards', async () => {
    const result = await ruleset.evaluate(input(patientData({ conditions: [HEART_FAILURE], medicationOrders: [order('m1', MILRINONE, { rate: 0.5 })] })));
    expect(result.fired).toContainEqual({ id: 'T-SILENT', version: '0.1.0', status: 'silent', category: 'monitoring', indicator: 'warning' });
    expect(result.cards.map(ruleOf)).not.toContain('T-SILENT');
  });

  it('orders cards critical, warning, info', async () => {
    const result = await ruleset.evaluate(
      input(patientData({ medicationOrders: [order('m1', MILRINONE, { rate: 0.9 })], observationsByCode: lowPotassium })),
    );
    expect(result.cards.map((c) => c.indicator)).toEqual(['critical', 'warning', 'info', 'info']);
    for (const card of result.cards) expect(cardSchema.safeParse(card).success).toBe(true);
  });

  it('gives complete results to many concurrent evaluations of rules with different priorities', async () => {
    const cases = Array.from({ length: 200 }, (_, i) =>
      patientData({
        medicationOrders: [order(`m${i}`, MILRINONE, { rate: i % 2 === 0 ? 0.9 : 0.5 })],
        observationsByCode: lowPotassium,
      }),
    );
    const results = await Promise.all(cases.map((data) => ruleset.evaluate(input(data))));
    results.forEach((result, i) => {
      const expected = i % 2 === 0 ? ['T-MIL-MAX', 'T-HYPOKALEMIA', 'T-NO-HF', 'T-EVERY-ORDER'] : ['T-HYPOKALEMIA', 'T-NO-HF', 'T-EVERY-ORDER'];
      expect(result.cards.map(ruleOf)).toEqual(expected);
    });
  });

  it('advertises the data its rules read per hook, always with the medication orders, their administrations and body weight', () => {
    expect(ruleset.requirements('order-sign').map((r) => r.key)).toEqual(['medications', 'obs-body-weight', 'obs-potassium', 'patient', 'conditions', 'administrations']);
    expect(ruleset.requirements('patient-view').map((r) => r.key)).toEqual(['medications', 'obs-body-weight', 'obs-potassium', 'patient', 'administrations']);
  });

  it('counts rules by status and has a content-hash version', () => {
    expect(ruleset.counts).toEqual({ active: 6, silent: 1, retired: 1 });
    expect(ruleset.version).toMatch(/^[0-9a-f]{12}$/);
  });
});
