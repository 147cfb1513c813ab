import type {
  AllergyIntolerance,
  Coding,
  Condition,
  Device,
  Encounter,
  Medication,
  MedicationAdministration,
  MedicationRequest,
  Observation,
  Patient,
  Procedure,
  Quantity,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';

import type { Hook, Moment, OrderSubjects } from './hooks.js';

/**
 * The patient as the facts see it: one typed, normalised picture built by the data layer from
 * prefetch and the EHR's FHIR server. Facts are pure functions of this value; the data layer, the
 * facts, the rules and the cards share it.
 */

/** What one piece of data the rules need looks like on the wire (a prefetch key). */
export interface DataRequirement {
  /** Prefetch key advertised in discovery, e.g. `patient`, `medications`, `obs-potassium`. */
  key: string;
  /** What the key holds, for people: `Potassium observations`. Used in data-quality cards and logs. */
  label: string;
  /** Relative FHIR read or search URL with STU2 tokens, e.g. `Observation?patient={{context.patientId}}&code=...`. */
  template: string;
  /** The resource type the key yields (for search keys, the type of the entries). */
  resourceType: (typeof RESOURCE_TYPES)[number];
  /**
   * `latest`: a search sorted newest first whose first page is enough (observations);
   * `all`: follow `Bundle.link[next]` up to the configured caps.
   */
  paging: 'latest' | 'all';
}

/** The resource types the data layer reads. */
export const RESOURCE_TYPES = ['Patient', 'MedicationRequest', 'MedicationAdministration', 'Observation', 'Condition', 'AllergyIntolerance', 'ServiceRequest', 'Encounter', 'Device', 'Procedure'] as const;

/** Why a part of the patient's data is missing (a data gap's `reason`). */
export const DATA_GAP_REASONS = [
  'fetch-failed',
  // Not in prefetch, and there is no FHIR server the service may read it from.
  'unavailable',
  'timeout',
  'unauthorized',
  'not-found',
  'operation-outcome',
  'invalid-response',
  'malformed-resource',
  // Records were read, but some of their fields had the wrong shape and were left out (named by JSON pointer).
  'malformed-field',
  'truncated',
] as const;

/** A part of the patient's data that could not be obtained, or was obtained incompletely. */
export interface DataGap {
  /** The requirement's key; `draftOrders` for the request's draft orders. */
  key: string;
  /** `Medication` when the drug behind an order's medicationReference could not be identified. */
  resourceType: DataRequirement['resourceType'] | 'Medication';
  reason: (typeof DATA_GAP_REASONS)[number];
  /** Plain-English description safe for a card and a log line: no token, no patient data. */
  message: string;
}

export interface MedicationOrder {
  request: MedicationRequest;
  /** The Medication behind `medicationReference` (contained, from the draft Bundle, or fetched). */
  medication?: Medication;
  /** Every drug coding known for the order: medicationCodeableConcept, Medication.code and its ingredients. */
  codings: readonly Coding[];
  /** `draft`: from context.draftOrders; `active`: from the patient's active MedicationRequests. */
  origin: 'draft' | 'active';
  /** order-select: the order is in `selections`; order-sign: every draft; patient-view: every active order. */
  selected: boolean;
}

/** One observed value, indexed by the coding it was recorded under (a component counts as its own entry). */
export interface ObservationValue {
  observation: Observation;
  /** `system|code` of the coding this entry is indexed by. */
  code: string;
  /** The component's or the observation's value. */
  valueQuantity?: Quantity;
  valueCodeableConcept?: Observation['valueCodeableConcept'];
  /** A count or score recorded without a unit (AUDIT-C total as valueInteger). */
  valueInteger?: number;
  /** effectiveDateTime, effectivePeriod.end/start, effectiveInstant or issued, as an ISO string. */
  effective: string;
  /** `effective` as epoch milliseconds, parsed once by the data layer (facts order by it). */
  time: number;
  fromComponent: boolean;
}

export interface PatientData {
  hook: Hook;
  /** The moment of care the hook is called at (the `moment` fact). */
  moment: Moment;
  /** Which medication orders the order-scoped rules evaluate (with `selected` for order-select). */
  subjects: OrderSubjects;
  patientId: string;
  patient?: Patient;
  /** The encounter in the call's context (`encounterId`), when a hook reads it (encounter-discharge: the encounter being ended). */
  encounter?: Encounter;
  /** Draft orders from the request context that are not MedicationRequests (ServiceRequest, NutritionOrder, ...). */
  otherDraftOrders: readonly Resource[];
  /** Draft MedicationRequests (origin `draft`) and the patient's active ones (origin `active`); a draft that also appears as active is kept once, as draft. */
  medicationOrders: readonly MedicationOrder[];
  /** Usable observations (not cancelled / entered-in-error), by `system|code`, newest first. */
  observationsByCode: ReadonlyMap<string, readonly ObservationValue[]>;
  conditions: readonly Condition[];
  allergies: readonly AllergyIntolerance[];
  serviceRequests: readonly ServiceRequest[];
  /** The patient's devices (e.g. a central venous catheter), when a rule reads them. */
  devices: readonly Device[];
  /** The patient's procedures (newest first as the server sent them), when a rule reads them. */
  procedures: readonly Procedure[];
  /** Recorded administrations (given or running; not-done and entered-in-error left out), newest first. */
  administrations: readonly MedicationAdministration[];
  /** Data the rules need that could not be obtained or is incomplete. Empty when everything arrived. */
  gaps: readonly DataGap[];
}

/** What obtaining one key took: for metrics and logs (no patient data). */
export interface FetchRecord {
  key: string;
  resourceType: DataRequirement['resourceType'] | 'Medication';
  source: 'prefetch' | 'fhir-server';
  outcome: 'ok' | 'null' | DataGap['reason'];
  durationMs: number;
  /** HTTP requests sent for it (pages, retries); 0 for prefetch. */
  requests: number;
}

export interface ResolvedData {
  data: PatientData;
  fetches: readonly FetchRecord[];
}
