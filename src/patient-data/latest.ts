import type { FhirObject } from './fhir-payload.js';
import { effectiveAt } from './normalise.js';
import type { DataRequirement } from '../shared/patient-data.js';

/**
 * A `latest` key asks for the newest observations and how many (`_sort=-date&_count=50`). An EHR that
 * ignores `_count` (or `_sort`) sends more, from prefetch or from a search: the newest `_count` are
 * kept, so the rules see what a conformant EHR would have sent, whatever the EHR, and a patient with
 * 10 000 results costs what one with 50 does. Observations without a usable date rank last.
 */

// Requirements live as long as their ruleset; their templates are read once, not on every hook call.
const counts = new WeakMap<DataRequirement, number | undefined>();

/** The `_count` a `latest` Observation key's template asks for; undefined when there is nothing to enforce. */
export function latestCount(requirement: DataRequirement): number | undefined {
  if (requirement.paging !== 'latest' || requirement.resourceType !== 'Observation') return undefined;
  if (counts.has(requirement)) return counts.get(requirement);
  const query = requirement.template.split('?')[1];
  const count = Number(new URLSearchParams(query ?? '').get('_count') ?? NaN);
  const enforced = Number.isInteger(count) && count > 0 ? count : undefined;
  counts.set(requirement, enforced);
  return enforced;
}

/** The resources with only the `count` newest Observations among them (other resources untouched, order kept). */
export function keepNewest(resources: readonly FhirObject[], count: number): readonly FhirObject[] {
  let observations = 0;
  for (const r of resources) if (r.resourceType === 'Observation') observations++;
  if (observations <= count) return resources;
  const times: number[] = [];
  let newestFirst = true;
  for (const r of resources) {
    if (r.resourceType !== 'Observation') continue;
    const t = effectiveAt(r)?.t ?? -Infinity;
    if (times.length > 0 && t > times[times.length - 1]!) newestFirst = false;
    times.push(t);
  }
  // keep[i]: whether the i-th Observation is among the newest. Sorting is stable: among equal times the EHR's order decides.
  const keep = new Uint8Array(times.length);
  const order = newestFirst ? times.keys() : times.map((_t, i) => i).sort((a, b) => (times[a] === times[b] ? a - b : times[b]! > times[a]! ? 1 : -1));
  let kept = 0;
  for (const i of order) {
    if (kept++ === count) break;
    keep[i] = 1;
  }
  let i = 0;
  return resources.filter((r) => r.resourceType !== 'Observation' || keep[i++] === 1);
}
