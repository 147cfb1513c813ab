import { evalFhirPathTyped, parseFhirPath, PropertyType, toTypedValue, type FhirPathAtom, type TypedValue } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { z } from 'zod';
import type { PatientData } from '../shared/patient-data.js';
import {
  ALLERGIES_REQUIREMENT,
  CONDITIONS_REQUIREMENT,
  MEDICATIONS_REQUIREMENT,
  PATIENT_REQUIREMENT,
  SERVICE_REQUESTS_REQUIREMENT,
} from './requirements.js';
import type { FactDefinition } from './types.js';
import { anything, list } from './value-shape.js';

/**
 * For a rule that needs a path no fact offers: a FHIRPath expression over all the patient's resources.
 * `now()`, `today()` and `timeOfDay()` (or `%now`, `%today`, `%timeOfDay`) are the evaluation time.
 */

// FHIRPath's now(), today() and timeOfDay() read the wall clock; facts are pure functions of the
// evaluation time, so these calls are rewritten to variables bound to it. String literals are left alone.
const CLOCK_CALLS = /(?<![\w.%$])(now|today|timeOfDay)\(\s*\)/g;

export function withEvaluationTime(expression: string): string {
  const parts: string[] = [];
  let code = 0;
  // A scan, not split(/('(?:[^'\\]|\\.)*')/): the regex rescans to the end from every quote of an unclosed literal.
  for (let open = expression.indexOf("'"); open !== -1; open = expression.indexOf("'", code)) {
    const close = closingQuote(expression, open + 1);
    if (close === -1) break; // unclosed: the rest is read as code, as the split left it
    parts.push(expression.slice(code, open).replace(CLOCK_CALLS, '%$1'), expression.slice(open, close + 1));
    code = close + 1;
  }
  parts.push(expression.slice(code).replace(CLOCK_CALLS, '%$1'));
  return parts.join('');
}

/** Index of the quote closing a FHIRPath string literal whose text starts at `from` (backslash escapes), or -1. */
function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === "'") return i;
  }
  return -1;
}

function clockVariables(now: Date): Record<string, TypedValue> {
  const iso = now.toISOString();
  return {
    '%now': { type: PropertyType.dateTime, value: iso },
    '%today': { type: PropertyType.date, value: iso.slice(0, 10) },
    '%timeOfDay': { type: PropertyType.time, value: iso.slice(11) },
  };
}

function parses(expression: string): boolean {
  try {
    parseFhirPath(withEvaluationTime(expression));
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
    atom = parseFhirPath(withEvaluationTime(expression));
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
  add(data.encounter);
  for (const order of data.medicationOrders) {
    add(order.request);
    add(order.medication);
  }
  data.otherDraftOrders.forEach(add);
  for (const values of data.observationsByCode.values()) values.forEach((v) => add(v.observation));
  data.conditions.forEach(add);
  data.allergies.forEach(add);
  data.serviceRequests.forEach(add);
  data.devices.forEach(add);
  data.procedures.forEach(add);
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
  value: list(anything),
  compute: (p, ctx): unknown[] => {
    try {
      const result = evalFhirPathTyped(atomFor(p.expression), [toTypedValue(patientBundle(ctx.data))], clockVariables(ctx.now));
      return result.map((v) => v.value);
    } catch {
      // A runtime type error in an expression (e.g. arithmetic on a malformed value) means no result.
      return [];
    }
  },
} satisfies FactDefinition<z.infer<typeof fhirpathParams>>;
