import type { Bundle, Resource } from '@medplum/fhirtypes';
import nock from 'nock';
import type { HookRequest } from '../../src/cds/request-schema.js';
import type { DataRequirement } from '../../src/shared/patient-data.js';
import { resolvePatientData as resolve, type DataOptions } from '../../src/patient-data/resolve.js';
import { dataRequest } from '../../src/cds/handle-hook.js';
import { hookModule } from '../../src/cds/hooks/registry.js';

/** A small synthetic chart and the requirements a ruleset like ours would declare, for data-layer tests. */

export const FHIR = 'https://ehr.test/fhir';
export const TOKEN = 'tok-8f3b2a-secret-access-token';
export const PATIENT_ID = 'pat-4711';

export const REQUIREMENTS: readonly DataRequirement[] = [
  { key: 'patient', label: 'Patient record', template: 'Patient/{{context.patientId}}', resourceType: 'Patient', paging: 'latest' },
  {
    key: 'medications',
    label: 'Active medication orders',
    template: 'MedicationRequest?patient={{context.patientId}}&status=active',
    resourceType: 'MedicationRequest',
    paging: 'all',
  },
  { key: 'conditions', label: 'Conditions', template: 'Condition?patient={{context.patientId}}', resourceType: 'Condition', paging: 'all' },
  {
    key: 'obs-potassium',
    label: 'Potassium observations',
    template: 'Observation?patient={{context.patientId}}&code=http://loinc.org|2823-3,http://loinc.org|6298-4&_sort=-date&_count=50',
    resourceType: 'Observation',
    paging: 'latest',
  },
];

/** The data layer for a wire request, as the hook use-case calls it. */
export function resolvePatientData(request: HookRequest, requirements: readonly DataRequirement[], opts: DataOptions) {
  return resolve(dataRequest(hookModule(request.hook), request), requirements, opts);
}

export const options = (overrides: Partial<DataOptions> = {}): DataOptions => ({
  fhirServerAllowlist: [FHIR],
  budgetMs: 400,
  requestTimeoutMs: 300,
  maxPages: 5,
  maxResources: 1000,
  maxResponseBytes: 4_194_304,
  maxCallBytes: 8_388_608,
  maxRequests: 60,
  maxConcurrency: 8,
  maxBytesInFlight: 16_777_216,
  maxDepth: 64,
  ...overrides,
});

export const patient = { resourceType: 'Patient', id: PATIENT_ID, gender: 'female', birthDate: '1950-03-04' };

export const activeDobutamine = {
  resourceType: 'MedicationRequest',
  id: 'mr-active-1',
  status: 'active',
  intent: 'order',
  subject: { reference: `Patient/${PATIENT_ID}` },
  medicationReference: { reference: 'Medication/med-dobutamine' },
};

export const dobutamineMedication = {
  resourceType: 'Medication',
  id: 'med-dobutamine',
  code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1812167', display: 'dobutamine 250 MG in 250 ML' }] },
  ingredient: [
    { itemCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '3616', display: 'dobutamine' }] } },
  ],
};

export const heartFailure = {
  resourceType: 'Condition',
  id: 'cond-hf',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code: '88805009', display: 'Chronic congestive heart failure' }] },
};

export const potassium = (id: string, value: number, when: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '6298-4' }] },
  valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  effectiveDateTime: when,
  ...extra,
});

export const searchset = (resources: readonly object[], next?: string): Bundle =>
  ({
    resourceType: 'Bundle',
    type: 'searchset',
    entry: resources.map((resource) => ({ resource: resource as Resource })),
    ...(next !== undefined && { link: [{ relation: 'next', url: next }] }),
  }) as Bundle;

/** The chart as each key's answer: what a conformant EHR would prefetch or its server would return. */
export const CHART: Record<string, object> = {
  patient,
  // The active order's Medication comes `_include`d, as `...&_include=MedicationRequest:medication` would return it.
  medications: searchset([activeDobutamine, dobutamineMedication]),
  conditions: searchset([heartFailure]),
  'obs-potassium': searchset([potassium('k-2', 3.1, '2026-11-21T06:00:00Z'), potassium('k-1', 3.9, '2026-11-19T06:00:00Z')]),
};

/** Where each key of the chart is read on the FHIR server (below https://ehr.test). */
export const PATHS: Record<string, { path: string; query?: Record<string, string> }> = {
  patient: { path: `/fhir/Patient/${PATIENT_ID}` },
  medications: { path: '/fhir/MedicationRequest', query: { patient: PATIENT_ID, status: 'active' } },
  conditions: { path: '/fhir/Condition', query: { patient: PATIENT_ID } },
  'obs-potassium': {
    path: '/fhir/Observation',
    query: { patient: PATIENT_ID, code: 'http://loinc.org|2823-3,http://loinc.org|6298-4', _sort: '-date', _count: '50' },
  },
};

/** The EHR's FHIR server, as nock intercepts it. */
export const ORIGIN = new URL(FHIR).origin;

/** An EHR FHIR server that expects our bearer token (or, with `auth: false`, none) and answers the given keys from the chart. */
export function chartServer(keys: readonly string[], opts: { delayMs?: number; auth?: boolean } = {}): nock.Scope {
  const scope = nock(ORIGIN, opts.auth === false ? { badheaders: ['authorization'] } : { reqheaders: { authorization: `Bearer ${TOKEN}` } });
  for (const key of keys) {
    const { path, query } = PATHS[key]!;
    const interceptor = query ? scope.get(path).query(query) : scope.get(path);
    (opts.delayMs ? interceptor.delay(opts.delayMs) : interceptor).reply(200, CHART[key]!, { 'content-type': 'application/fhir+json' });
  }
  return scope;
}

export const draftMilrinone = {
  resourceType: 'MedicationRequest',
  id: 'mr-draft-1',
  status: 'draft',
  intent: 'order',
  subject: { reference: `Patient/${PATIENT_ID}` },
  medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '52769', display: 'milrinone' }] },
};

type Base = { fhirServer?: string; token?: boolean; prefetch?: Record<string, unknown> };

export function orderSign(base: Base = {}, draftOrders: readonly object[] = [draftMilrinone]): HookRequest {
  return {
    hook: 'order-sign',
    hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    ...envelope(base),
    context: {
      userId: 'Practitioner/prac-1',
      patientId: PATIENT_ID,
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: draftOrders.map((resource) => ({ resource })) } as never,
    },
  } as HookRequest;
}

export function patientView(base: Base = {}): HookRequest {
  return {
    hook: 'patient-view',
    hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2eb',
    ...envelope(base),
    context: { userId: 'Practitioner/prac-1', patientId: PATIENT_ID },
  } as HookRequest;
}

function envelope({ fhirServer, token = true, prefetch }: Base) {
  return {
    ...(fhirServer !== undefined && { fhirServer }),
    ...(fhirServer !== undefined &&
      token && { fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'inotrope-cds' } }),
    ...(prefetch !== undefined && { prefetch }),
  };
}
