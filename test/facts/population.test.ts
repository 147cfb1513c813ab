import { describe, expect, it } from 'vitest';
import type { MedicationAdministration } from '@medplum/fhirtypes';
import { patientValue } from '../../src/facts/patient.js';
import { staleInotropeOrders } from '../../src/facts/administrations.js';
import { CallMemo } from '../../src/facts/memo.js';
import { ADMINISTRATIONS_REQUIREMENT } from '../../src/facts/requirements.js';
import { ago, context, knowledge, medicationOrder, NOW, patientData, RXNORM } from './builder.js';

/** Who the rules are for (rules/tests/population.json has the scenarios): the facts the evaluator decides it from. */

describe('patient: adult and deceased', () => {
  const who = (patient: object, adultAge = '18y') =>
    patientValue(context(patientData({ patient: { resourceType: 'Patient', id: 'p1', ...patient } }), { knowledge: knowledge({ settings: { adultAge } }) }));

  it('is adult from the 18th birthday on, in whole years', () => {
    expect(who({ birthDate: '2008-11-21' })).toMatchObject({ ageYears: 18, adult: true });
    expect(who({ birthDate: '2008-11-22' })).toMatchObject({ ageYears: 17, adult: false });
  });

  it('reads the adult age from the settings', () => {
    expect(who({ birthDate: '2008-11-22' }, '16y')).toMatchObject({ adult: true });
  });

  it('does not know whether a patient without a birth date is an adult', () => {
    expect(who({})).toMatchObject({ ageYears: null, adult: null, deceased: false });
  });

  it('is deceased by deceasedBoolean or deceasedDateTime, and says so in its display', () => {
    expect(who({ deceasedBoolean: true })).toMatchObject({ deceased: true, deceasedDate: null });
    expect(who({ gender: 'female', birthDate: '1950-01-01', deceasedDateTime: '2026-11-20T23:00:00Z' })).toMatchObject({
      deceased: true,
      deceasedDate: '2026-11-20T23:00:00Z',
      display: 'female, 76 y, deceased 2026-11-20',
    });
    expect(who({ deceasedBoolean: false })).toMatchObject({ deceased: false });
  });
});

describe('staleInotropeOrders', () => {
  const old = medicationOrder({ origin: 'active', id: 'old', code: '52769', authoredOn: ago(24 * 10) });
  const given = (extra: Partial<MedicationAdministration>): MedicationAdministration => ({
    resourceType: 'MedicationAdministration',
    status: 'completed',
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: ago(2),
    ...extra,
  });
  const stale = (spec: Parameters<typeof patientData>[0], requirements = [ADMINISTRATIONS_REQUIREMENT]) =>
    staleInotropeOrders(patientData(spec), NOW, knowledge(), requirements, new CallMemo());

  it('calls an active order older than the setting with no administration stale', () => {
    expect(stale({ orders: [old] })).toEqual([old]);
  });

  it('does not judge when the administrations were not asked for or could not be read', () => {
    expect(stale({ orders: [old] }, [])).toEqual([]);
    expect(
      stale({ orders: [old], gaps: [{ key: 'administrations', resourceType: 'MedicationAdministration', reason: 'timeout', message: 'timed out' }] }),
    ).toEqual([]);
  });

  it('counts an administration that references the order (relative or absolute), or names the same drug without an order', () => {
    expect(stale({ orders: [old], administrations: [given({ request: { reference: 'MedicationRequest/old' } })] })).toEqual([]);
    expect(stale({ orders: [old], administrations: [given({ request: { reference: 'https://ehr.example/fhir/MedicationRequest/old' } })] })).toEqual([]);
    expect(stale({ orders: [old], administrations: [given({ medicationCodeableConcept: { coding: [{ system: RXNORM, code: '52769' }] } })] })).toEqual([]);
  });

  it('does not count an administration for another order, nor one of another drug', () => {
    expect(stale({ orders: [old], administrations: [given({ request: { reference: 'MedicationRequest/other' } })] })).toEqual([old]);
    expect(stale({ orders: [old], administrations: [given({ medicationCodeableConcept: { coding: [{ system: RXNORM, code: '3616' }] } })] })).toEqual([old]);
  });

  it('leaves drafts, recent orders, orders without authoredOn and non-inotropes alone', () => {
    const draft = medicationOrder({ origin: 'draft', code: '52769', authoredOn: ago(24 * 10) });
    const recent = medicationOrder({ origin: 'active', code: '52769', authoredOn: ago(24 * 6) });
    const undated = medicationOrder({ origin: 'active', code: '52769' });
    const furosemide = medicationOrder({ origin: 'active', code: '1719286', authoredOn: ago(24 * 30) });
    expect(stale({ orders: [draft, recent, undated, furosemide] })).toEqual([]);
  });
});
