import { describe, expect, it } from 'vitest';
import { orderReasons } from '../../src/facts/medications.js';
import { context, LOINC, medicationOrder, patientData } from './builder.js';

/** Issue 15: dobutamine given for a stress echocardiogram is named by the order's reason (coded, or in words). */
describe('orderReasons', () => {
  const withReason = (reasonCode: unknown, spec: Parameters<typeof medicationOrder>[0] = {}) => {
    const order = medicationOrder({ code: '3616', ...spec });
    (order.request as { reasonCode?: unknown }).reasonCode = reasonCode;
    return order;
  };
  const read = (...orders: ReturnType<typeof medicationOrder>[]) => orderReasons.compute({ valueSet: 'stress-echo' }, context(patientData({ orders })));

  it('finds an inotrope order whose reason is coded in the set, or whose reason names it in words', () => {
    const coded = withReason([{ coding: [{ system: LOINC, code: '18107-3' }] }], { id: 'coded' });
    const worded = withReason([{ text: 'Dobutamine stress echo, chest pain' }], { id: 'worded', origin: 'active' });
    expect(read(coded, worded).map((r) => [r.reference, r.origin, r.reason])).toEqual([
      ['MedicationRequest/coded', 'draft', 'Cardiac echo study Procedure stress method'],
      ['MedicationRequest/worded', 'active', 'Dobutamine stress echo, chest pain'],
    ]);
  });

  it('ignores other reasons, a malformed reason, and orders that are not inotropes', () => {
    expect(read(withReason([{ text: 'Cardiogenic shock' }]), withReason('stress echo'), withReason(undefined))).toEqual([]);
    expect(read(withReason([{ text: 'stress echo' }], { code: '4603' }))).toEqual([]);
  });
});
