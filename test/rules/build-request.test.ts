import { describe, expect, it } from 'vitest';
import { answer, ScenarioError } from '../../src/scenarios/build-request.js';

const obs = (id: string, code: string, when: string) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code }] },
  effectiveDateTime: when,
});
const chart = [
  { resourceType: 'Patient', id: 'p1' },
  obs('k-old', '2823-3', '2026-11-19T06:00:00Z'),
  obs('k-new', '2823-3', '2026-11-21T06:00:00Z'),
  obs('na', '2951-2', '2026-11-21T06:00:00Z'),
  { resourceType: 'MedicationRequest', id: 'a', status: 'active' },
  { resourceType: 'MedicationRequest', id: 's', status: 'stopped' },
  { resourceType: 'Condition', id: 'c1', clinicalStatus: { coding: [{ code: 'active' }] } },
  { resourceType: 'Condition', id: 'c2', clinicalStatus: { coding: [{ code: 'resolved' }] } },
];
const ids = (bundle: unknown) => (bundle as { entry: { resource: { id: string } }[] }).entry.map((e) => e.resource.id);

describe('answering prefetch templates from a chart, as an EHR would', () => {
  it('reads a resource by id, or null when the chart has none', () => {
    expect(answer('Patient/p1', chart)).toEqual({ resourceType: 'Patient', id: 'p1' });
    expect(answer('Patient/p2', chart)).toBeNull();
  });

  it('filters by code tokens, newest first for _sort=-date, cut at _count', () => {
    expect(ids(answer('Observation?patient=p1&code=http://loinc.org|2823-3,http://loinc.org|9999-9&_sort=-date', chart))).toEqual(['k-new', 'k-old']);
    expect(ids(answer('Observation?patient=p1&code=http://loinc.org|2823-3&_sort=-date&_count=1', chart))).toEqual(['k-new']);
    expect(answer('Observation?patient=p1&code=2951-2', chart)).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
  });

  it('filters by status and clinical-status', () => {
    expect(ids(answer('MedicationRequest?patient=p1&status=active', chart))).toEqual(['a']);
    expect(ids(answer('Condition?patient=p1&clinical-status=active,recurrence,relapse', chart))).toEqual(['c1']);
  });

  it('refuses a search parameter it cannot answer rather than answering wrongly', () => {
    expect(() => answer('Observation?patient=p1&category=vital-signs', chart)).toThrow(ScenarioError);
  });
});
