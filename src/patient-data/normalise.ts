import type { MedicationRequest, Observation, Resource } from '@medplum/fhirtypes';
import type { FhirObject } from './fhir-payload.js';
import { dataGap, type GapOwner } from './gaps.js';
import { capStrings, readAll, type Readable, type ReadableType } from './fhir-schemas.js';
import { drugCodings, type MedicationLookup } from './medications.js';
import type { DataGap, DataRequirement, MedicationOrder, ObservationValue, PatientData } from '../shared/patient-data.js';
import type { DataRequest } from './data-request.js';

/**
 * Turns what was obtained (draft orders, and the resources each usable key carried) into the one
 * typed PatientData the facts read. Every resource is read through a lenient schema first; what
 * cannot be read is left out and reported as a gap, never silently dropped.
 */

export interface Owner {
  key: string;
  label: string;
  resourceType: DataRequirement['resourceType'];
}

export interface OrderInput {
  request: MedicationRequest;
  lookup: MedicationLookup;
  owner: Owner;
}

export interface KeyResources {
  requirement: DataRequirement;
  resources: readonly FhirObject[];
}

export interface NormaliseInput {
  request: DataRequest;
  drafts: readonly OrderInput[];
  otherDraftOrders: readonly Resource[];
  active: readonly OrderInput[];
  /** Usable keys with the resources they carried (MedicationRequest keys arrive as `active`). */
  keys: readonly KeyResources[];
}

export const DRAFT_OWNER: Owner = { key: 'draftOrders', label: 'Draft orders', resourceType: 'MedicationRequest' };

const UNUSABLE_OBSERVATION = new Set(['cancelled', 'entered-in-error']);
// Not given (or recorded by mistake): such a record is no evidence that a drug was administered.
const UNUSABLE_ADMINISTRATION = new Set(['not-done', 'entered-in-error']);

export function buildPatientData(input: NormaliseInput): { data: Omit<PatientData, 'gaps'>; gaps: DataGap[] } {
  const gaps: DataGap[] = [];
  const ofType = <K extends ReadableType>(type: K) => collect(type, input.keys, input.request.context.patientId, gaps);

  const patients = ofType('Patient').map((p) => p.resource);
  const patient = patients[0];
  const encounters = ofType('Encounter').map((e) => e.resource);
  const encounter = encounters.find((e) => e.id === input.request.context.encounterId) ?? encounters[0];

  const observationsByCode = new Map<string, ObservationValue[]>();
  const undated = new Map<DataRequirement, number>();
  for (const { resource, requirement } of ofType('Observation')) {
    if (UNUSABLE_OBSERVATION.has(resource.status ?? '')) continue;
    const at = effectiveAt(resource);
    if (at === undefined) {
      undated.set(requirement, (undated.get(requirement) ?? 0) + 1);
      continue;
    }
    addValues(observationsByCode, resource, resource, at, false);
    for (const component of resource.component ?? []) addValues(observationsByCode, resource, component, at, true);
  }
  for (const [requirement, count] of undated) gaps.push(malformedGap(requirement, count, 'no date'));
  for (const list of observationsByCode.values()) {
    // Searches arrive newest first (`_sort=-date`): sort only when they did not.
    if (!isNewestFirst(list)) list.sort((a, b) => b.time - a.time);
  }

  const medicationOrders = [
    ...input.drafts.map((o) => toOrder(o, 'draft', isSelected(input.request, o.request))),
    ...dedupeActive(input.drafts, input.active).map((o) => toOrder(o, 'active', input.request.subjects === 'active')),
  ];
  gaps.push(...medicationGaps([...input.drafts, ...input.active]));

  return {
    data: {
      hook: input.request.hook,
      moment: input.request.moment,
      subjects: input.request.subjects,
      patientId: input.request.context.patientId,
      ...(patient && { patient }),
      ...(encounter && { encounter }),
      otherDraftOrders: input.otherDraftOrders,
      medicationOrders,
      observationsByCode,
      conditions: ofType('Condition').map((c) => c.resource),
      allergies: ofType('AllergyIntolerance').map((a) => a.resource),
      serviceRequests: ofType('ServiceRequest').map((s) => s.resource),
      devices: ofType('Device').map((d) => d.resource),
      procedures: ofType('Procedure').map((p) => p.resource),
      administrations: newestFirst(
        ofType('MedicationAdministration')
          .map((a) => a.resource)
          .filter((a) => !UNUSABLE_ADMINISTRATION.has(a.status ?? '')),
      ),
    },
    gaps,
  };
}

/** The readable resources of one type across the keys that hold it, once per id; malformed ones become gaps. */
function collect<K extends ReadableType>(
  type: K,
  keys: readonly KeyResources[],
  patientId: string,
  gaps: DataGap[],
): { resource: Readable<K>; requirement: DataRequirement }[] {
  const seen = new Set<string>();
  const all: { resource: Readable<K>; requirement: DataRequirement }[] = [];
  for (const { requirement, resources } of keys.filter((k) => k.requirement.resourceType === type)) {
    const { mine, others } = ownRecords(resources.filter((r) => r.resourceType === type), patientId);
    if (others > 0) gaps.push(malformedGap(requirement, others, OTHER_PATIENT));
    const { valid, malformed, dropped } = readAll(type, mine);
    if (malformed > 0) gaps.push(malformedGap(requirement, malformed));
    if (dropped.length > 0) gaps.push(fieldGap(requirement, dropped));
    for (const resource of valid) {
      const id = (resource as { id?: string }).id;
      if (id !== undefined && seen.has(id)) continue;
      if (id !== undefined) seen.add(id);
      all.push({ resource, requirement });
    }
  }
  return all;
}

const OTHER_PATIENT = 'they are about another patient than the one in context (an EHR error)';

/**
 * Whether a record is about the hook's patient: a Patient by its id, anything else by its `subject` or
 * `patient` reference when it has one (`Patient/<id>`, absolute or versioned). Records about another
 * patient are left out with a gap: an EHR bug the clinician should hear about, never advice about the
 * wrong person.
 */
function isAbout(resource: object, patientId: string): boolean {
  const r = resource as { resourceType?: unknown; id?: unknown; subject?: { reference?: unknown }; patient?: { reference?: unknown } };
  if (r.resourceType === 'Patient') return r.id === patientId;
  const reference = (r.subject ?? r.patient)?.reference;
  if (typeof reference !== 'string') return true;
  const parts = reference.split('/');
  const at = parts.lastIndexOf('Patient');
  return at >= 0 && parts[at + 1] === patientId && (at + 2 === parts.length || parts[at + 2] === '_history');
}

function ownRecords<T extends object>(resources: readonly T[], patientId: string): { mine: T[]; others: number } {
  const mine = resources.filter((r) => isAbout(r, patientId));
  return { mine, others: resources.length - mine.length };
}

/**
 * The draft orders of an order hook: MedicationRequests (readable ones), the other order resources,
 * and the Medications the bundle carries for its orders' medicationReferences (not orders themselves).
 */
export function readDraftOrders(request: DataRequest): {
  medicationRequests: MedicationRequest[];
  others: Resource[];
  medications: Resource[];
  gaps: DataGap[];
} {
  const resources = (request.draftOrders ?? []) as Resource[];
  const { mine, others: notMine } = ownRecords(resources.filter((r) => r.resourceType === 'MedicationRequest'), request.context.patientId);
  const { valid, malformed, dropped } = readAll('MedicationRequest', mine);
  const others = resources.filter((r) => r.resourceType !== 'MedicationRequest' && r.resourceType !== 'Medication');
  for (const other of others) capStrings(other);
  return {
    medicationRequests: valid,
    others,
    medications: resources.filter((r) => r.resourceType === 'Medication'),
    gaps: [
      ...(notMine > 0 ? [malformedGap(DRAFT_OWNER, notMine, OTHER_PATIENT)] : []),
      ...(malformed > 0 ? [malformedGap(DRAFT_OWNER, malformed)] : []),
      ...(dropped.length > 0 ? [fieldGap(DRAFT_OWNER, dropped)] : []),
    ],
  };
}

/** The patient's active orders from a MedicationRequest key (the search may return others). */
export function readActiveOrders(requirement: DataRequirement, resources: readonly FhirObject[], patientId: string): { requests: MedicationRequest[]; gaps: DataGap[] } {
  const { mine, others } = ownRecords(resources.filter((r) => r.resourceType === 'MedicationRequest'), patientId);
  const { valid, malformed, dropped } = readAll('MedicationRequest', mine);
  return {
    requests: valid.filter((r) => r.status === 'active'),
    gaps: [
      ...(others > 0 ? [malformedGap(requirement, others, OTHER_PATIENT)] : []),
      ...(malformed > 0 ? [malformedGap(requirement, malformed)] : []),
      ...(dropped.length > 0 ? [fieldGap(requirement, dropped)] : []),
    ],
  };
}

/** Whether a draft order is one the hook's order rules evaluate. */
function isSelected(request: DataRequest, order: MedicationRequest): boolean {
  if (request.subjects === 'all-drafts') return true;
  return request.subjects === 'selected-drafts' && order.id !== undefined && (request.selections ?? []).includes(`MedicationRequest/${order.id}`);
}

function dedupeActive(drafts: readonly OrderInput[], active: readonly OrderInput[]): OrderInput[] {
  const seen = new Set(drafts.flatMap((d) => (d.request.id !== undefined ? [d.request.id] : [])));
  return active.filter((a) => {
    if (a.request.id === undefined) return true;
    if (seen.has(a.request.id)) return false;
    seen.add(a.request.id);
    return true;
  });
}

function toOrder(input: OrderInput, origin: MedicationOrder['origin'], selected: boolean): MedicationOrder {
  const { medication } = input.lookup;
  return { request: input.request, ...(medication && { medication }), codings: drugCodings(input.request, medication), origin, selected };
}

/** One gap per owner and reason for orders whose drug could not be identified. */
function medicationGaps(orders: readonly OrderInput[]): DataGap[] {
  const groups = new Map<string, { owner: Owner; reason: DataGap['reason']; why: string; count: number }>();
  for (const { owner, lookup } of orders) {
    if (!lookup.failure) continue;
    const id = `${owner.key}\u0000${lookup.failure.reason}`;
    const group = groups.get(id) ?? { owner, reason: lookup.failure.reason, why: lookup.failure.why, count: 0 };
    group.count++;
    groups.set(id, group);
  }
  const dropped = orders.flatMap(({ owner, lookup }) => (lookup.dropped ?? []).map((pointer) => ({ owner, pointer })));
  return [
    ...[...groups.values()].map(({ owner, reason, why, count }) =>
      dataGap({ ...owner, resourceType: 'Medication' }, reason, `drug of ${count === 1 ? '1 order' : `${count} orders`} not identified: ${why}`),
    ),
    ...[...new Set(dropped.map((d) => d.owner))].map((owner) =>
      fieldGap({ ...owner, resourceType: 'Medication' }, dropped.filter((d) => d.owner === owner).map((d) => d.pointer)),
    ),
  ];
}

const MAX_POINTERS = 5;

/**
 * Fields left out of records that were otherwise read (fhir-schemas.ts readResource), named by JSON
 * pointer within the record: which field, never its value.
 */
export function fieldGap(owner: GapOwner | DataRequirement, pointers: readonly string[]): DataGap {
  const unique = [...new Set(pointers)];
  const shown = unique.slice(0, MAX_POINTERS).join(', ') + (unique.length > MAX_POINTERS ? ` and ${unique.length - MAX_POINTERS} more` : '');
  const what = unique.length === 1 ? 'a field was unreadable and ignored' : `${unique.length} fields were unreadable and ignored`;
  return dataGap(owner, 'malformed-field', `${what}: ${shown}`);
}

function malformedGap(owner: Owner | DataRequirement, count: number, why = 'malformed'): DataGap {
  return dataGap(owner, 'malformed-resource', `${count === 1 ? '1 record' : `${count} records`} left out: ${why}`);
}

/**
 * When an observation was made: effectiveDateTime, effectivePeriod (end, else start), effectiveInstant,
 * else issued, the first that parses, as given and as epoch milliseconds. Reads unchecked resources
 * too (only strings count), so a search can be ordered before its resources are read.
 */
export function effectiveAt(observation: object): { effective: string; t: number } | undefined {
  const o = observation as { effectiveDateTime?: unknown; effectivePeriod?: unknown; effectiveInstant?: unknown; issued?: unknown };
  const period = typeof o.effectivePeriod === 'object' && o.effectivePeriod !== null ? (o.effectivePeriod as { start?: unknown; end?: unknown }) : undefined;
  for (const candidate of [o.effectiveDateTime, period?.end, period?.start, o.effectiveInstant, o.issued]) {
    if (typeof candidate !== 'string') continue;
    const t = Date.parse(candidate);
    if (!Number.isNaN(t)) return { effective: candidate, t };
  }
  return undefined;
}

type Valued = Pick<Observation, 'code' | 'valueQuantity' | 'valueCodeableConcept' | 'valueInteger'>;

/** One entry per coding of the observation or of one of its components (a component is indexed by its own code). */
function addValues(
  byCode: Map<string, ObservationValue[]>,
  observation: Observation,
  { code, valueQuantity, valueCodeableConcept, valueInteger }: Valued,
  at: { effective: string; t: number },
  fromComponent: boolean,
): void {
  for (const c of code?.coding ?? []) {
    if (c.system === undefined || c.code === undefined) continue;
    const value: ObservationValue = { observation, code: `${c.system}|${c.code}`, effective: at.effective, time: at.t, fromComponent };
    if (valueQuantity) value.valueQuantity = valueQuantity;
    if (valueCodeableConcept) value.valueCodeableConcept = valueCodeableConcept;
    if (valueInteger !== undefined) value.valueInteger = valueInteger;
    const list = byCode.get(value.code);
    if (list) list.push(value);
    else byCode.set(value.code, [value]);
  }
}

/** Administrations by effective time, newest first; undated ones last (they prove nothing about when). */
function newestFirst<T extends object>(items: T[]): T[] {
  const at = new Map(items.map((item) => [item, effectiveAt(item)?.t ?? -Infinity]));
  return items.sort((a, b) => at.get(b)! - at.get(a)!);
}

function isNewestFirst(list: readonly ObservationValue[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i - 1]!.time < list[i]!.time) return false;
  return true;
}
