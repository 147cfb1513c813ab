import type { DataRequirement } from '../shared/patient-data.js';

/**
 * What a key's value holds, whether it came as prefetch or as a FHIR server's answer
 * (CDS Hooks 2.0 §Prefetch, https://cds-hooks.hl7.org/2.0/#prefetch-template): data, nothing (`null`), an error (an OperationOutcome, alone or
 * inside a Bundle), or something that is not FHIR at all.
 */
export type Payload =
  | { kind: 'null' }
  | {
      kind: 'data';
      /** Every resource carried (Bundle entries flattened), including `_include`d ones such as Medications. */
      resources: readonly FhirObject[];
      /** `Bundle.link[next]`, when the search has more pages. */
      next?: string;
    }
  | { kind: 'operation-outcome' }
  | { kind: 'invalid'; why: string };

export type FhirObject = Record<string, unknown> & { resourceType: string };

export function isFhirObject(value: unknown): value is FhirObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { resourceType?: unknown }).resourceType === 'string';
}

export function classifyPayload(value: unknown, requirement: Pick<DataRequirement, 'resourceType'>): Payload {
  if (value === null) return { kind: 'null' };
  if (!isFhirObject(value)) return { kind: 'invalid', why: 'it is not a FHIR resource' };
  if (value.resourceType === 'OperationOutcome') return { kind: 'operation-outcome' };
  if (value.resourceType === 'Bundle') return classifyBundle(value);
  if (value.resourceType !== requirement.resourceType) {
    return { kind: 'invalid', why: `it holds a ${value.resourceType} instead of a ${requirement.resourceType}` };
  }
  return { kind: 'data', resources: [value] };
}

function classifyBundle(bundle: FhirObject): Payload {
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) return { kind: 'invalid', why: 'its Bundle entries are not a list' };
  const resources: FhirObject[] = [];
  for (const entry of entries as unknown[]) {
    const resource = typeof entry === 'object' && entry !== null ? (entry as { resource?: unknown }).resource : undefined;
    if (resource === undefined) continue;
    if (!isFhirObject(resource)) return { kind: 'invalid', why: 'a Bundle entry is not a FHIR resource' };
    if (resource.resourceType === 'OperationOutcome') {
      // A search may carry warnings as an OperationOutcome entry beside its results; only an error
      // (or an outcome that does not say) means the data is not there.
      if (isError(resource)) return { kind: 'operation-outcome' };
      continue;
    }
    resources.push(resource);
  }
  const next = nextLink(bundle);
  return { kind: 'data', resources, ...(next !== undefined && { next }) };
}

function isError(outcome: FhirObject): boolean {
  const issues = Array.isArray(outcome.issue) ? (outcome.issue as unknown[]) : [];
  if (issues.length === 0) return true;
  return issues.some((i) => {
    const severity = typeof i === 'object' && i !== null ? (i as { severity?: unknown }).severity : undefined;
    return severity !== 'information' && severity !== 'warning';
  });
}

function nextLink(bundle: FhirObject): string | undefined {
  if (!Array.isArray(bundle.link)) return undefined;
  for (const link of bundle.link as unknown[]) {
    if (typeof link !== 'object' || link === null) continue;
    const { relation, url } = link as { relation?: unknown; url?: unknown };
    if (relation === 'next' && typeof url === 'string' && url.length > 0) return url;
  }
  return undefined;
}
