import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';
import type {
  AllergyIntolerance,
  Condition,
  Medication,
  MedicationAdministration,
  MedicationRequest,
  Observation,
  Patient,
  ServiceRequest,
} from '@medplum/fhirtypes';

/**
 * Lenient shapes of the fields the facts read, per resource type. Prefetch and FHIR-server data is
 * checked only for being a resource at the edge; each resource is checked against these before it
 * enters PatientData, so a wrong shape (a `coding` that is an object, a value that is a string) is
 * skipped and reported instead of crashing a fact. Unknown fields pass through untouched: only the
 * check's verdict is used and the original object kept (readResource).
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

interface Typed {
  Observation: Observation;
  Condition: Condition;
  AllergyIntolerance: AllergyIntolerance;
  ServiceRequest: ServiceRequest;
  MedicationRequest: MedicationRequest;
  MedicationAdministration: MedicationAdministration;
  Medication: Medication;
  Patient: Patient;
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
};

const ajv = new Ajv({ strict: true });
const CHECKS = Object.fromEntries(
  Object.entries(RESOURCE_SHAPES).map(([type, shape]) => [type, ajv.compile(z.toJSONSchema(shape, { target: 'draft-7', io: 'input' }))]),
) as { [K in keyof Typed]: ValidateFunction };

export type ReadableType = keyof Typed;
export type Readable<K extends ReadableType> = Typed[K];

/**
 * The resource as its FHIR type when the fields facts read have the right shape, else undefined.
 * The original object is returned (not zod's copy): the check vouches for the fields facts use.
 */
export function readResource<K extends ReadableType>(type: K, raw: unknown): Typed[K] | undefined {
  return CHECKS[type](raw) ? (raw as Typed[K]) : undefined;
}

/** Splits resources of one type into those facts can read and a count of the malformed ones. */
export function readAll<K extends ReadableType>(type: K, raws: readonly unknown[]): { valid: Typed[K][]; malformed: number } {
  const valid: Typed[K][] = [];
  let malformed = 0;
  for (const raw of raws) {
    const resource = readResource(type, raw);
    if (resource) valid.push(resource);
    else malformed++;
  }
  return { valid, malformed };
}
