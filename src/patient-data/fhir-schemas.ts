import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';
import type {
  AllergyIntolerance,
  Condition,
  Device,
  Encounter,
  Medication,
  MedicationAdministration,
  MedicationRequest,
  Observation,
  Patient,
  Procedure,
  ServiceRequest,
} from '@medplum/fhirtypes';

/**
 * Lenient shapes of the fields the facts read, per resource type. Prefetch and FHIR-server data is
 * checked only for being a resource at the edge; each resource is checked against these before it
 * enters PatientData, so a wrong shape (a `coding` that is an object, a value that is a string) is
 * left out of the resource and reported instead of crashing a fact (readResource). Unknown fields
 * pass through untouched.
 *
 * The zod schemas are the definition; the hot path runs them as JSON Schema compiled once by ajv.
 * A zod parse builds a copy of every object it checks (about a third of all memory a hook call
 * allocated, and the garbage collection that goes with it, docs/performance.md); ajv's compiled
 * check allocates nothing. test/patient-data/fhir-schemas.test.ts holds the two to the same verdicts.
 */

const coding = z.object({ system: z.string().optional(), code: z.string().optional(), display: z.string().optional() });
const codeableConcept = z.object({ coding: z.array(coding).optional(), text: z.string().optional() });
const quantity = z.object({
  value: z.number().optional(),
  comparator: z.string().optional(),
  unit: z.string().optional(),
  system: z.string().optional(),
  code: z.string().optional(),
});
const ratio = z.object({ numerator: quantity.optional(), denominator: quantity.optional() });
const period = z.object({ start: z.string().optional(), end: z.string().optional() });
const reference = z.object({ reference: z.string().optional(), display: z.string().optional() });
const id = z.string().optional();

const observationValue = {
  valueQuantity: quantity.optional(),
  valueCodeableConcept: codeableConcept.optional(),
  valueInteger: z.number().int().optional(),
};

const observation = z.object({
  resourceType: z.literal('Observation'),
  id,
  status: z.string().optional(),
  code: codeableConcept,
  ...observationValue,
  component: z.array(z.object({ code: codeableConcept, ...observationValue })).optional(),
  effectiveDateTime: z.string().optional(),
  effectivePeriod: period.optional(),
  effectiveInstant: z.string().optional(),
  issued: z.string().optional(),
});

const clinicalStatuses = {
  clinicalStatus: codeableConcept.optional(),
  verificationStatus: codeableConcept.optional(),
};

const condition = z.object({
  resourceType: z.literal('Condition'),
  id,
  code: codeableConcept.optional(),
  ...clinicalStatuses,
  category: z.array(codeableConcept).optional(),
  onsetDateTime: z.string().optional(),
  onsetPeriod: period.optional(),
  recordedDate: z.string().optional(),
});

const allergyIntolerance = z.object({
  resourceType: z.literal('AllergyIntolerance'),
  id,
  code: codeableConcept.optional(),
  ...clinicalStatuses,
  reaction: z.array(z.object({ substance: codeableConcept.optional() })).optional(),
});

const serviceRequest = z.object({
  resourceType: z.literal('ServiceRequest'),
  id,
  status: z.string().optional(),
  intent: z.string().optional(),
  code: codeableConcept.optional(),
  authoredOn: z.string().optional(),
});

const medicationRequest = z.object({
  resourceType: z.literal('MedicationRequest'),
  id,
  status: z.string().optional(),
  intent: z.string().optional(),
  medicationCodeableConcept: codeableConcept.optional(),
  medicationReference: reference.optional(),
  contained: z.array(z.object({ resourceType: z.string(), id })).optional(),
  authoredOn: z.string().optional(),
  reasonCode: z.array(codeableConcept).optional(),
  dosageInstruction: z
    .array(
      z.object({
        route: codeableConcept.optional(),
        timing: z
          .looseObject({
            repeat: z.object({ boundsDuration: quantity.optional(), boundsPeriod: period.optional() }).optional(),
          })
          .optional(),
        doseAndRate: z
          .array(
            z.object({
              doseQuantity: quantity.optional(),
              rateQuantity: quantity.optional(),
              rateRatio: ratio.optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

const medicationAdministration = z.object({
  resourceType: z.literal('MedicationAdministration'),
  id,
  status: z.string().optional(),
  medicationCodeableConcept: codeableConcept.optional(),
  medicationReference: reference.optional(),
  request: reference.optional(),
  effectiveDateTime: z.string().optional(),
  effectivePeriod: period.optional(),
});

const medication = z.object({
  resourceType: z.literal('Medication'),
  id,
  code: codeableConcept.optional(),
  form: codeableConcept.optional(),
  ingredient: z
    .array(
      z.object({
        itemCodeableConcept: codeableConcept.optional(),
        itemReference: reference.optional(),
        strength: ratio.optional(),
      }),
    )
    .optional(),
});

const patient = z.object({
  resourceType: z.literal('Patient'),
  id,
  gender: z.string().optional(),
  birthDate: z.string().optional(),
  deceasedBoolean: z.boolean().optional(),
  deceasedDateTime: z.string().optional(),
});

const encounter = z.object({
  resourceType: z.literal('Encounter'),
  id,
  status: z.string().optional(),
  period: period.optional(),
  hospitalization: z.object({ dischargeDisposition: codeableConcept.optional() }).optional(),
});

const device = z.object({
  resourceType: z.literal('Device'),
  id,
  status: z.string().optional(),
  type: codeableConcept.optional(),
});

const procedure = z.object({
  resourceType: z.literal('Procedure'),
  id,
  status: z.string().optional(),
  code: codeableConcept.optional(),
  performedDateTime: z.string().optional(),
  performedPeriod: period.optional(),
});

interface Typed {
  Observation: Observation;
  Condition: Condition;
  AllergyIntolerance: AllergyIntolerance;
  ServiceRequest: ServiceRequest;
  MedicationRequest: MedicationRequest;
  MedicationAdministration: MedicationAdministration;
  Medication: Medication;
  Patient: Patient;
  Encounter: Encounter;
  Device: Device;
  Procedure: Procedure;
}

/** The shapes facts rely on, per resource type (exported for the test that holds the compiled checks to them). */
export const RESOURCE_SHAPES: { [K in keyof Typed]: z.ZodType } = {
  Observation: observation,
  Condition: condition,
  AllergyIntolerance: allergyIntolerance,
  ServiceRequest: serviceRequest,
  MedicationRequest: medicationRequest,
  MedicationAdministration: medicationAdministration,
  Medication: medication,
  Patient: patient,
  Encounter: encounter,
  Device: device,
  Procedure: procedure,
};

const ajv = new Ajv({ strict: true });
const compile = (all: boolean) =>
  Object.fromEntries(
    Object.entries(RESOURCE_SHAPES).map(([type, shape]) => [
      type,
      (all ? new Ajv({ strict: true, allErrors: true }) : ajv).compile(z.toJSONSchema(shape, { target: 'draft-7', io: 'input' })),
    ]),
  ) as { [K in keyof Typed]: ValidateFunction };
const CHECKS = compile(false);
// Only for resources that failed CHECKS: every wrong field at once, so each can be left out.
const FIELD_CHECKS = compile(true);
/** Rounds of leaving fields out (a field left out can make its parent incomplete: a component without its code). */
const MAX_REPAIRS = 4;

export type ReadableType = keyof Typed;
export type Readable<K extends ReadableType> = Typed[K];

/** A resource facts can read, and the fields (JSON pointers into it as received) left out to make it so. */
export interface ReadResult<K extends ReadableType> {
  resource: Typed[K];
  dropped: string[];
}

/** Whether the fields facts use all have the right shape (the resource is then read as is). */
export function accepts(type: ReadableType, raw: unknown): boolean {
  return CHECKS[type](raw);
}

/**
 * The resource as its FHIR type, leniently: when some fields facts read have the wrong shape
 * (`rateQuantity.value: "3"`, an `authoredOn` that is a number), a copy without those fields (or
 * without the array entries that hold them) is read instead and the fields are named, so one bad
 * field costs that field, not the resource. Undefined when what is left is no such resource (not an
 * object, another resourceType, or a field the type cannot do without is unreadable: an
 * Observation's `code`). A well-formed resource is returned as is (not zod's copy): the check
 * vouches for the fields facts use. Pointers name schema fields and array indexes only, never values.
 */
export function readResource<K extends ReadableType>(type: K, raw: unknown): ReadResult<K> | undefined {
  if (CHECKS[type](raw)) {
    capStrings(raw as object);
    return { resource: raw as Typed[K], dropped: [] };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || (raw as { resourceType?: unknown }).resourceType !== type) return undefined;
  const copy = structuredClone(raw) as Record<string, unknown>;
  const dropped: string[] = [];
  const within = (pointer: string) => dropped.some((d) => pointer === d || pointer.startsWith(`${d}/`));
  for (let round = 0; round < MAX_REPAIRS && !FIELD_CHECKS[type](copy); round++) {
    const fresh = [...new Set((FIELD_CHECKS[type].errors ?? []).map((e) => e.instancePath))].filter((p) => !within(p));
    // Only the placeholders themselves are wrong: done.
    if (fresh.length === 0) break;
    // The resource itself is wrong: not readable.
    if (fresh.includes('') || fresh.includes('/resourceType')) return undefined;
    // Array entries become empty objects for now, so the pointers of later rounds still match the resource received.
    for (const pointer of fresh) leaveOut(copy, pointer, {});
    dropped.push(...fresh);
  }
  // Remove the placeholders, highest index first within an array.
  for (const pointer of [...dropped].sort(byPointerDescending)) leaveOut(copy, pointer, undefined);
  // Name what was left out once: an entry, not also the fields inside it.
  const outermost = dropped.filter((p) => !dropped.some((d) => p.startsWith(`${d}/`))).sort();
  if (!CHECKS[type](copy)) return undefined;
  capStrings(copy);
  return { resource: copy as unknown as Typed[K], dropped: outermost };
}

/** Deletes the object field at `pointer`; an array entry is replaced by `placeholder`, or removed when it is undefined. */
function leaveOut(root: Record<string, unknown>, pointer: string, placeholder: object | undefined): void {
  const steps = pointer.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  let parent: unknown = root;
  for (const step of steps.slice(0, -1)) {
    parent = (parent as Record<string, unknown> | undefined)?.[step];
    if (typeof parent !== 'object' || parent === null) return;
  }
  const last = steps[steps.length - 1]!;
  if (Array.isArray(parent)) {
    const index = Number(last);
    if (placeholder === undefined) parent.splice(index, 1);
    else parent[index] = placeholder;
  } else delete (parent as Record<string, unknown>)[last];
}

function byPointerDescending(a: string, b: string): number {
  const [x, y] = [a.split('/'), b.split('/')];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const [m, n] = [Number(x[i]), Number(y[i])];
    return Number.isInteger(m) && Number.isInteger(n) ? n - m : y[i]! < x[i]! ? -1 : 1;
  }
  return y.length - x.length;
}

/** Longest record-derived string kept: codes, systems, displays, units, ids, dates, references. */
export const MAX_STRING_CHARS = 256;
/** Free text (CodeableConcept.text, notes, narrative) is kept longer: cards show it truncated. */
export const MAX_TEXT_CHARS = 1024;
const FREE_TEXT = new Set(['text', 'div', 'comment', 'description', 'patientInstruction']);

/**
 * Cuts every string of a record (in place, with an ellipsis) to the length above as it enters PatientData,
 * so that no fact, template or unit parser downstream ever sees a 100 k-character display or unit
 * (issue 16: one such display blocked a replica for 56 s). Iterative: nesting depth is bounded elsewhere.
 */
export function capStrings(root: object): void {
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Record<string, unknown>;
    const array = Array.isArray(node);
    for (const key in node) {
      const value = node[key];
      if (typeof value === 'string') {
        const max = !array && FREE_TEXT.has(key) ? MAX_TEXT_CHARS : MAX_STRING_CHARS;
        if (value.length > max) node[key] = cut(value, max);
      } else if (typeof value === 'object' && value !== null) {
        stack.push(value);
      }
    }
  }
}

function cut(text: string, max: number): string {
  // never split a surrogate pair
  const end = /[\uD800-\uDBFF]/.test(text[max - 2] ?? '') ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}

/** Splits resources of one type into those facts can read (with the fields left out of each) and a count of the unreadable ones. */
export function readAll<K extends ReadableType>(type: K, raws: readonly unknown[]): { valid: Typed[K][]; malformed: number; dropped: string[] } {
  const valid: Typed[K][] = [];
  const dropped: string[] = [];
  let malformed = 0;
  for (const raw of raws) {
    const read = readResource(type, raw);
    if (read) {
      valid.push(read.resource);
      dropped.push(...read.dropped);
    } else malformed++;
  }
  return { valid, malformed, dropped };
}
