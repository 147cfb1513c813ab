import { describe, expect, it } from 'vitest';
import type { FhirObject } from '../../src/patient-data/fhir-payload.js';
import { keepNewest, latestCount } from '../../src/patient-data/latest.js';
import type { DataRequirement } from '../../src/shared/patient-data.js';

const obs = (id: string, when: Record<string, unknown>): FhirObject => ({ resourceType: 'Observation', id, ...when });
const ids = (resources: readonly FhirObject[]) => resources.map((r) => r.id);

describe('keepNewest', () => {
  const medication: FhirObject = { resourceType: 'Medication', id: 'med' };
  const resources = [
    obs('old', { effectiveDateTime: '2026-11-01T00:00:00Z' }),
    medication,
    obs('period', { effectivePeriod: { start: '2026-11-20T00:00:00Z' } }),
    obs('undated', {}),
    obs('offset', { effectiveDateTime: '2026-11-21T08:00:00+02:00' }), // 06:00Z
    obs('issued', { issued: '2026-11-21T07:00:00Z' }),
    obs('bad-type', { effectiveDateTime: 20261121 }),
  ];

  it('keeps the newest by effective time (offsets honoured), leaves other resources and the order as they were', () => {
    expect(ids(keepNewest(resources, 3))).toEqual(['med', 'period', 'offset', 'issued']);
    // 08:00+02:00 is 06:00Z, older than 07:00Z: read without its offset it would be the newest.
    expect(ids(keepNewest(resources, 1))).toEqual(['med', 'issued']);
  });

  it('ranks observations without a usable time last, in the order they came', () => {
    expect(ids(keepNewest(resources, 5))).toEqual(['old', 'med', 'period', 'undated', 'offset', 'issued']);
  });

  it('returns the resources as they are when there are no more than asked for', () => {
    expect(keepNewest(resources, 6)).toBe(resources);
  });
});

describe('latestCount', () => {
  const requirement = (template: string, paging: DataRequirement['paging'] = 'latest'): DataRequirement => ({
    key: 'k',
    label: 'K',
    template,
    resourceType: 'Observation',
    paging,
  });

  it('reads _count from a latest Observation template', () => {
    expect(latestCount(requirement('Observation?patient={{context.patientId}}&code=a|b&_sort=-date&_count=50'))).toBe(50);
  });

  it('enforces nothing without a usable _count, or for a key whose pages are all read', () => {
    expect(latestCount(requirement('Observation?patient={{context.patientId}}&_sort=-date'))).toBeUndefined();
    expect(latestCount(requirement('Observation?patient={{context.patientId}}&_count=abc'))).toBeUndefined();
    expect(latestCount(requirement('Observation?patient={{context.patientId}}&_count=50', 'all'))).toBeUndefined();
  });
});
