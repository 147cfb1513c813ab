import type { FhirObject } from './fhir-payload.js';
import { effectiveAt } from './normalise.js';
import type { DataRequirement } from './patient-data.js';

/**
 * A `latest` key asks for the newest observations and how many (`_sort=-date&_count=50`). An EHR that
 * ignores `_count` (or `_sort`) sends more, from prefetch or from a search: the newest `_count` are
 * kept, so the rules see what a conformant EHR would have sent, whatever the EHR, and a patient with
 * 10 000 results costs what one with 50 does. Observations without a usable date rank last.
 */

/** The `_count` a `latest` Observation key's template asks for; undefined when there is nothing to enforce. */
export function latestCount(requirement: Pick<DataRequirement, 'template' | 'paging' | 'resourceType'>): number | undefined {
  if (requirement.paging !== 'latest' || requirement.resourceType !== 'Observation') return undefined;
  const query = requirement.template.split('?')[1];
  if (query === undefined) return undefined;
  const count = Number(new URLSearchParams(query).get('_count') ?? NaN);
  return Number.isInteger(count) && count > 0 ? count : undefined;
}

/** The resources with only the `count` newest Observations among them (other resources untouched, order kept). */
export function keepNewest(resources: readonly FhirObject[], count: number): readonly FhirObject[] {
  const observations = resources.filter((r) => r.resourceType === 'Observation');
  if (observations.length <= count) return resources;
  const timed = observations.map((r) => ({ r, t: effectiveAt(r)?.t ?? -Infinity }));
  // Stable: among equal times the EHR's order decides.
  timed.sort((a, b) => (a.t === b.t ? 0 : b.t > a.t ? 1 : -1));
  const kept = new Set(timed.slice(0, count).map(({ r }) => r));
  return resources.filter((r) => r.resourceType !== 'Observation' || kept.has(r));
}
