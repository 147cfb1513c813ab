import { describe, expect, it } from 'vitest';
import { FACTS } from '../../src/facts/index.js';
import { allergies, conditions, procedures, serviceRequests } from '../../src/facts/clinical-records.js';
import { allergy, condition, context, knowledge, patientData, RXNORM, serviceRequest, SNOMED } from './builder.js';

describe('conditions', () => {
  const hocm = (data: Parameters<typeof patientData>[0]) =>
    conditions.compute({ valueSet: 'hypertrophic-obstruction' }, context(patientData(data)));

  it('returns active conditions coded in the value set', () => {
    const value = hocm({
      conditions: [condition('360465008', { onset: '2019-04-01' }), condition('88805009'), condition('45227007', { clinical: 'relapse' })],
    });
    expect(value).toEqual([
      {
        code: `${SNOMED}|360465008`,
        display: 'Idiopathic hypertrophic subaortic stenosis',
        onset: '2019-04-01',
        recorded: null,
        reference: expect.stringMatching(/^Condition\//),
      },
      { code: `${SNOMED}|45227007`, display: 'Hypertrophic subaortic stenosis (SNOMED CT 45227007)', onset: null, recorded: null, reference: expect.stringMatching(/^Condition\//) },
    ]);
  });

  it('counts a condition without clinicalStatus, not a resolved, refuted or entered-in-error one', () => {
    expect(hocm({ conditions: [condition('45227007', { clinical: null })] })).toHaveLength(1);
    const abated = { ...condition('45227007', { clinical: null }), abatementDateTime: '2024-01-10' };
    expect(hocm({ conditions: [abated] })).toEqual([]);
    expect(hocm({ conditions: [condition('45227007', { clinical: 'resolved' })] })).toEqual([]);
    expect(hocm({ conditions: [condition('45227007', { clinical: 'inactive' })] })).toEqual([]);
    expect(hocm({ conditions: [condition('45227007', { verification: 'refuted' })] })).toEqual([]);
    expect(hocm({ conditions: [condition('45227007', { verification: 'entered-in-error' })] })).toEqual([]);
    expect(hocm({ conditions: [condition('45227007', { verification: 'provisional' })] })).toHaveLength(1);
  });

  it('matches on system and code, not code alone', () => {
    expect(hocm({ conditions: [condition('45227007', { system: 'http://hl7.org/fhir/sid/icd-10-cm' })] })).toEqual([]);
  });

  it('onsetWithin: only conditions that began that recently, by onset or else the date recorded; undated ones do not count', () => {
    const recent = (c: ReturnType<typeof condition>[]) =>
      conditions.compute({ valueSet: 'hypertrophic-obstruction', onsetWithin: '30d' }, context(patientData({ conditions: c })));
    expect(recent([condition('45227007', { onset: '2026-11-01T00:00:00Z' })])).toHaveLength(1);
    expect(recent([condition('45227007', { onset: '2026-10-22T12:00:00Z' })])).toHaveLength(1); // exactly 30 days before NOW
    expect(recent([condition('45227007', { onset: '2026-10-22T11:59:00Z' })])).toEqual([]);
    expect(recent([{ ...condition('45227007'), recordedDate: '2026-11-20' }])).toHaveLength(1);
    // An old onset wins over a recent recorded date (a chronic problem re-entered on the list).
    expect(recent([{ ...condition('45227007', { onset: '2019-04-01' }), recordedDate: '2026-11-20' }])).toEqual([]);
    expect(recent([condition('45227007')])).toEqual([]);
  });

  it('reads the conditions key', () => {
    expect(FACTS.conditions!.requirements({ valueSet: 'heart-failure' }, knowledge())).toEqual([
      {
        key: 'conditions',
        label: 'Active conditions',
        template: 'Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse',
        resourceType: 'Condition',
        paging: 'all',
      },
    ]);
  });
});

describe('allergies', () => {
  const inotropeAllergy = (list: ReturnType<typeof allergy>[]) =>
    allergies.compute({ valueSet: 'inotrope-allergy' }, context(patientData({ allergies: list })));

  it('returns an active milrinone allergy, not a refuted or entered-in-error one', () => {
    expect(inotropeAllergy([allergy('52769', { clinical: 'active' })])).toEqual([
      { code: `${RXNORM}|52769`, display: 'Inotrope hypersensitivity (RxNorm 52769)', reference: expect.stringMatching(/^AllergyIntolerance\//) },
    ]);
    expect(inotropeAllergy([allergy('52769', { verification: 'refuted' })])).toEqual([]);
    expect(inotropeAllergy([allergy('52769', { verification: 'entered-in-error' })])).toEqual([]);
    expect(inotropeAllergy([allergy('52769', { clinical: 'resolved' })])).toEqual([]);
    expect(inotropeAllergy([allergy('52769', { verification: 'unconfirmed' })])).toHaveLength(1);
  });

  it('reads reaction substances when the allergy code itself is not in the value set', () => {
    const list = [allergy(null, { substance: { system: SNOMED, code: '373441005', display: 'Milrinone (substance)' } })];
    expect(inotropeAllergy(list)).toEqual([{ code: `${SNOMED}|373441005`, display: 'Milrinone', reference: expect.any(String) }]);
  });

  it('ignores allergies to other things', () => {
    expect(inotropeAllergy([allergy('767406000', { system: SNOMED })])).toEqual([]);
  });

  it('reads the allergies key', () => {
    expect(FACTS.allergies!.requirements({ valueSet: 'inotrope-allergy' }, knowledge()).map((r) => [r.key, r.template])).toEqual([
      ['allergies', 'AllergyIntolerance?patient={{context.patientId}}'],
    ]);
  });
});

describe('serviceRequests', () => {
  it('returns active and draft requests from the record and from this session', () => {
    const value = serviceRequests.compute(
      { valueSet: 'telemetry' },
      context(
        patientData({
          serviceRequests: [serviceRequest('46825001'), serviceRequest('23852006', 'completed'), serviceRequest('268400002')],
          otherDraftOrders: [serviceRequest('23852006', 'draft')],
        }),
      ),
    );
    expect(value).toEqual([
      { code: `${SNOMED}|23852006`, display: 'Continuous ECG monitoring (SNOMED CT 23852006)', reference: expect.any(String), origin: 'draft' },
      { code: `${SNOMED}|46825001`, display: 'Continuous ECG monitoring (SNOMED CT 46825001)', reference: expect.any(String), origin: 'record' },
    ]);
  });

  it('reads the service-requests key', () => {
    expect(FACTS.serviceRequests!.requirements({ valueSet: 'telemetry' }, knowledge()).map((r) => [r.key, r.template, r.paging])).toEqual([
      ['service-requests', 'ServiceRequest?patient={{context.patientId}}&status=active', 'all'],
    ]);
  });
});

describe('procedures', () => {
  const procedure = (status: string, performed: Record<string, unknown> = {}, code = '103735009') => ({
    resourceType: 'Procedure' as const,
    id: `pr-${status}-${Object.values(performed).join('')}`,
    status: status as 'completed',
    subject: { reference: 'Patient/p1' },
    code: { coding: [{ system: SNOMED, code }] },
    ...performed,
  });
  const read = (list: ReturnType<typeof procedure>[], within?: string) =>
    procedures.compute({ valueSet: 'palliative-care', ...(within !== undefined && { within }) }, context(patientData({ procedures: list })));

  it('returns procedures coded in the value set, with when they were performed; not those not done or entered in error', () => {
    const value = read([
      procedure('completed', { performedDateTime: '2026-11-20T08:00:00Z' }),
      procedure('in-progress', { performedPeriod: { start: '2026-11-19T08:00:00Z' } }),
      procedure('completed', { performedPeriod: { start: '2026-11-10T08:00:00Z', end: '2026-11-10T12:00:00Z' } }),
      procedure('not-done', { performedDateTime: '2026-11-20T08:00:00Z' }),
      procedure('entered-in-error', { performedDateTime: '2026-11-20T08:00:00Z' }),
      procedure('completed', { performedDateTime: '2026-11-20T08:00:00Z' }, '232717009'),
    ]);
    expect(value.map((p) => p.performed)).toEqual(['2026-11-20T08:00:00Z', '2026-11-19T08:00:00Z', '2026-11-10T12:00:00Z']);
    expect(value[0]).toEqual({ code: `${SNOMED}|103735009`, display: 'Palliative care', performed: '2026-11-20T08:00:00Z', reference: 'Procedure/pr-completed-2026-11-20T08:00:00Z' });
  });

  it('within: only those performed that recently and not in the future; one without a date does not count', () => {
    const value = read(
      [
        procedure('completed', { performedDateTime: '2026-11-14T12:00:00Z' }),
        procedure('completed', { performedDateTime: '2026-11-14T11:59:00Z' }),
        procedure('completed', { performedDateTime: '2026-11-22T08:00:00Z' }),
        procedure('completed'),
      ],
      '7d',
    );
    expect(value.map((p) => p.performed)).toEqual(['2026-11-14T12:00:00Z']);
  });

  it('reads the procedures key: newest first, first page only', () => {
    expect(FACTS.procedures!.requirements({ valueSet: 'palliative-care' }, knowledge()).map((r) => [r.key, r.template, r.paging])).toEqual([
      ['procedures', 'Procedure?patient={{context.patientId}}&_sort=-date&_count=100', 'latest'],
    ]);
  });
});
