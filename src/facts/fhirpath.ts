import { evalFhirPath, parseFhirPath, type FhirPathAtom } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import type { PatientData } from '../data/patient-data.js';
import {
  ALLERGIES_REQUIREMENT,
  CONDITIONS_REQUIREMENT,
  MEDICATIONS_REQUIREMENT,
  PATIENT_REQUIREMENT,
  SERVICE_REQUESTS_REQUIREMENT,
} from './requirements.js';
import type { FactDefinition } from './types.js';

/** For a rule that needs a path no fact offers: a FHIRPath expression over all the patient's resources. */

function parses(expression: string): boolean {
  try {
    parseFhirPath(expression);
    return true;
  } catch {
    return false;
  }
}

const fhirpathParams = z.strictObject({
  expression: z.string().min(1).refine(parses, 'not a valid FHIRPath expression'),
});

// Parsed once per distinct expression; the set of expressions is bounded by the rule files.
const parsed = new Map<string, FhirPathAtom>();

function atomFor(expression: string): FhirPathAtom {
  let atom = parsed.get(expression);
  if (!atom) {
    atom = parseFhirPath(expression);
    parsed.set(expression, atom);
  }
  return atom;
}

/** A `collection` Bundle of everything known about the patient, draft orders included. */
export function patientBundle(data: PatientData): Bundle {
  const resources: Resource[] = [];
  const seen = new Set<unknown>();
  const add = (r: Resource | undefined): void => {
    if (r && !seen.has(r)) {
      seen.add(r);
      resources.push(r);
    }
  };
  add(data.patient);
  for (const order of data.medicationOrders) {
    add(order.request);
    add(order.medication);
  }
  data.otherDraftOrders.forEach(add);
  for (const values of data.observationsByCode.values()) values.forEach((v) => add(v.observation));
  data.conditions.forEach(add);
  data.allergies.forEach(add);
  data.serviceRequests.forEach(add);
  return { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) };
}

export const fhirpath = {
  params: fhirpathParams,
  refs: () => [],
  // "All the patient's resources": every whole-record key. Observations are fetched per value set, so an
  // expression sees those that other facts of the ruleset asked for.
  requirements: () => [
    PATIENT_REQUIREMENT,
    MEDICATIONS_REQUIREMENT,
    CONDITIONS_REQUIREMENT,
    ALLERGIES_REQUIREMENT,
    SERVICE_REQUESTS_REQUIREMENT,
  ],
  compute: (p, ctx): unknown[] => {
    try {
      return evalFhirPath(atomFor(p.expression), patientBundle(ctx.data));
    } catch {
      // A runtime type error in an expression (e.g. arithmetic on a malformed value) means no result.
      return [];
    }
  },
} satisfies FactDefinition<z.infer<typeof fhirpathParams>>;
