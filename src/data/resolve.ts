import type { Bundle, MedicationRequest, Resource } from '@medplum/fhirtypes';
import type { HookRequest } from '../cds/request-schema.js';
import type { DataRequirement, MedicationOrder, ResolvedData } from './patient-data.js';

// Initial version: prefetch only. The data issue (#3) replaces this with fetching from fhirServer.

export interface DataOptions {
  fhirServerAllowlist: readonly string[];
  budgetMs: number;
  requestTimeoutMs: number;
  maxPages: number;
  maxResources: number;
}

/** Required data could not be obtained at all: the edge answers 412 (spec §Prefetch). */
export class DataUnavailableError extends Error {
  override name = 'DataUnavailableError';
  constructor(
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

export async function resolvePatientData(
  request: HookRequest,
  requirements: readonly DataRequirement[],
  _options: DataOptions,
): Promise<ResolvedData> {
  const missing = requirements.filter((r) => !(r.key in (request.prefetch ?? {})));
  if (missing.length > 0) {
    throw new DataUnavailableError('Prefetch is missing data the service needs and no fhirServer was given', [
      ...missing.map((r) => `missing prefetch key: ${r.key}`),
    ]);
  }
  const drafts = 'draftOrders' in request.context ? draftResources(request.context.draftOrders as Bundle) : [];
  const medicationOrders: MedicationOrder[] = drafts
    .filter((r): r is MedicationRequest => r.resourceType === 'MedicationRequest')
    .map((request) => ({ request, codings: request.medicationCodeableConcept?.coding ?? [], origin: 'draft', selected: true }));
  const data = {
    hook: request.hook,
    patientId: request.context.patientId,
    otherDraftOrders: drafts.filter((r) => r.resourceType !== 'MedicationRequest'),
    medicationOrders,
    observationsByCode: new Map(),
    conditions: [],
    allergies: [],
    serviceRequests: [],
    gaps: [],
  };
  return { data, fetches: [] };
}

function draftResources(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}
