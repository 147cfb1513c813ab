import { describe, expect, it } from 'vitest';
import { FACTS } from '../../src/facts/index.js';
import { ago, context, LOINC, medicationOrder, observation, patientData, RXNORM } from './builder.js';

/** What changed since an infusion started (rules/tests/during-therapy.json has the clinical scenarios). */
describe('changeSinceStart', () => {
  const params = FACTS.changeSinceStart!.params.parse({ valueSet: 'potassium', unit: 'mmol/L', baselineWithin: '24h', maxAge: '24h' });
  const k = (hours: number, value: number) => observation({ code: '2823-3', system: LOINC, value, unit: 'mmol/L', hoursAgo: hours });
  const change = (subject: ReturnType<typeof medicationOrder>, spec: Parameters<typeof patientData>[0]) =>
    FACTS.changeSinceStart!.compute(params, context(patientData({ orders: [subject], ...spec }), { subject })) as { change: number; start: string } | null;

  const running = medicationOrder({ origin: 'active', id: 'run', code: '52769', authoredOn: ago(48) });

  it('compares the newest value after the start with the newest one before it', () => {
    expect(change(running, { observations: [k(50, 4.6), k(49, 4.4), k(2, 3.6)] })).toMatchObject({ change: -0.8, start: ago(48) });
  });

  it('takes the earliest administration recorded for the order as the start', () => {
    const administrations = [
      { resourceType: 'MedicationAdministration' as const, status: 'completed' as const, subject: { reference: 'Patient/p1' }, request: { reference: 'MedicationRequest/run' }, effectiveDateTime: ago(20) },
      { resourceType: 'MedicationAdministration' as const, status: 'in-progress' as const, subject: { reference: 'Patient/p1' }, request: { reference: 'MedicationRequest/run' }, effectivePeriod: { start: ago(30) } },
    ];
    // 4.4 at 40 h is before the administration start (30 h) though after the order was written (48 h).
    expect(change(running, { observations: [k(40, 4.4), k(2, 3.6)], administrations })).toMatchObject({ change: -0.8, start: ago(30) });
  });

  it('does not take the start from an administration of the same drug, without an order reference, that ended before the order was written', () => {
    const given = (hours: number, status: 'completed' | 'in-progress') => ({
      resourceType: 'MedicationAdministration' as const,
      status,
      subject: { reference: 'Patient/p1' },
      medicationCodeableConcept: { coding: [{ system: RXNORM, code: '52769' }] },
      ...(status === 'in-progress' ? { effectivePeriod: { start: ago(hours) } } : { effectiveDateTime: ago(hours) }),
    });
    // An earlier course 90 days ago is not this infusion; one running since before the order was written is.
    expect(change(running, { observations: [k(50, 4.6), k(2, 3.6)], administrations: [given(2160, 'completed')] })).toMatchObject({ start: ago(48) });
    expect(change(running, { observations: [k(51, 4.6), k(2, 3.6)], administrations: [given(50, 'in-progress')] })).toMatchObject({ start: ago(50) });
  });

  it('is null without a baseline inside the window, without a recent value, or for a draft', () => {
    expect(change(running, { observations: [k(80, 4.4), k(2, 3.6)] })).toBeNull();
    expect(change(running, { observations: [k(50, 4.4), k(30, 3.6)] })).toBeNull();
    const draft = medicationOrder({ origin: 'draft', code: '52769', authoredOn: ago(48) });
    expect(change(draft, { observations: [k(50, 4.4), k(2, 3.6)] })).toBeNull();
  });

  it('is null for an order with neither administration nor authoredOn', () => {
    const undated = medicationOrder({ origin: 'active', code: '52769', system: RXNORM });
    expect(change(undated, { observations: [k(50, 4.4), k(2, 3.6)] })).toBeNull();
  });
});
