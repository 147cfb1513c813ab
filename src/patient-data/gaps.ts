import type { DataGap, DataRequirement } from '../shared/patient-data.js';

/** Whose data a gap is about: a requirement, or the request's draft orders. */
export interface GapOwner {
  key: string;
  label: string;
  resourceType: DataGap['resourceType'];
}

/**
 * A gap whose message names the data by its label and says why in a parenthesis
 * (`Active conditions (the FHIR server did not answer in time)`), so that messages read well alone,
 * in a 412's details and joined in a data-quality card ("could not read: A (...), B (...)").
 */
export function dataGap(owner: GapOwner | DataRequirement, reason: DataGap['reason'], detail: string): DataGap {
  return { key: owner.key, resourceType: owner.resourceType, reason, message: `${owner.label} (${detail})` };
}
