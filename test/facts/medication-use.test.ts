import type { MedicationAdministration } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { medicationUse } from '../../src/facts/medication-use.js';
import { ago, context, medicationOrder, patientData, RXNORM } from './builder.js';

/** medicationUse: a drug class ordered (any route) or given recently, for drug-drug interactions. */

const given = (code: string, hoursAgo: number, extra: Partial<MedicationAdministration> = {}): MedicationAdministration => ({
  resourceType: 'MedicationAdministration',
  id: `ma-${code}-${hoursAgo}`,
  status: 'completed',
  subject: { reference: 'Patient/p1' },
  medicationCodeableConcept: { coding: [{ system: RXNORM, code }] },
  effectiveDateTime: ago(hoursAgo),
  ...extra,
});

const use = (spec: Parameters<typeof patientData>[0], within: string | null = '72h') =>
  medicationUse.compute({ valueSet: 'furosemide', ...(within !== null && { within }) }, context(patientData(spec)));

describe('medicationUse', () => {
  it('lists draft and active orders of the class, whatever the route', () => {
    const value = use({ orders: [medicationOrder({ code: '4603', origin: 'active', route: null }), medicationOrder({ code: '52769' })] });
    expect(value.map((v) => v.how)).toEqual(['active order']);
  });

  it('counts administrations within the window, by the end of their period, and a running one as now', () => {
    expect(use({ administrations: [given('4603', 71)] })).toHaveLength(1);
    expect(use({ administrations: [given('4603', 73)] })).toEqual([]);
    const ended = given('4603', 100, { effectiveDateTime: undefined, effectivePeriod: { start: ago(100), end: ago(70) } });
    expect(use({ administrations: [ended] })).toHaveLength(1);
    const running = given('4603', 200, { status: 'in-progress', effectiveDateTime: undefined, effectivePeriod: { start: ago(200) } });
    expect(use({ administrations: [running] })[0]?.how).toMatch(/^given \d{4}-\d{2}-\d{2}$/);
  });

  it('without a window, administrations are not read (and not asked for)', () => {
    expect(use({ administrations: [given('4603', 1)] }, null)).toEqual([]);
    expect(medicationUse.requirements({ valueSet: 'furosemide' }).map((r) => r.key)).toEqual(['medications']);
    expect(medicationUse.requirements({ valueSet: 'furosemide', within: '72h' }).map((r) => r.key)).toEqual(['medications', 'administrations']);
  });

  it('ignores other drugs and undated administrations', () => {
    expect(use({ administrations: [given('52769', 1), given('4603', 1, { effectiveDateTime: undefined })] })).toEqual([]);
  });
});
