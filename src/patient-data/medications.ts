import type { Coding, Medication, MedicationRequest } from '@medplum/fhirtypes';
import type { FhirClient, Failure } from './fhir-client.js';
import { readResource } from './fhir-schemas.js';
import type { FetchRecord } from '../shared/patient-data.js';

/**
 * Finds the Medication behind a MedicationRequest's `medicationReference`, so rules see drug codes
 * whichever way the order names its drug: contained (`#id`), carried in the request (draftOrders,
 * prefetch Bundles, `_include`d entries), or read from the FHIR server (once per id, within budget).
 */

export interface MedicationLookup {
  medication?: Medication;
  /** Why the drug could not be identified; absent when it was (or the order codes it inline). */
  failure?: Failure;
  /** Fields of the Medication that were unreadable and left out (JSON pointers). */
  dropped?: readonly string[];
}

// `Medication/id`, optionally absolute or versioned (`.../_history/2`).
const MEDICATION_REF = /^(?:.*\/)?Medication\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export class MedicationResolver {
  private readonly known = new Map<string, unknown>();
  private readonly reads = new Map<string, Promise<MedicationLookup>>();
  readonly fetches: FetchRecord[] = [];

  /**
   * @param client the FHIR server to read from, when there is one we may use
   * @param noServerWhy why nothing can be read when there is no client
   */
  constructor(
    private readonly client: FhirClient | undefined,
    private readonly noServerWhy: string,
    private readonly clock: () => number,
  ) {}

  /** Makes Medications carried in the request or in fetched Bundles available for lookup. */
  remember(resources: readonly unknown[]): void {
    for (const r of resources) {
      const m = r as { resourceType?: unknown; id?: unknown };
      if (m?.resourceType === 'Medication' && typeof m.id === 'string' && !this.known.has(m.id)) this.known.set(m.id, r);
    }
  }

  async lookup(request: MedicationRequest, owner: string): Promise<MedicationLookup> {
    if (request.medicationCodeableConcept) return {};
    const reference = request.medicationReference?.reference;
    if (reference === undefined) return { failure: { reason: 'malformed-resource', why: 'the order names no drug' } };
    if (reference.startsWith('#')) {
      const contained = (request.contained ?? []).find((r) => r.resourceType === 'Medication' && r.id === reference.slice(1));
      return contained ? read(contained) : { failure: { reason: 'malformed-resource', why: 'the medication it points to is not contained in the order' } };
    }
    const id = MEDICATION_REF.exec(reference)?.[1];
    if (id === undefined) return { failure: { reason: 'malformed-resource', why: 'its medication reference cannot be followed' } };
    if (this.known.has(id)) return read(this.known.get(id));
    if (!this.client) return { failure: { reason: 'fetch-failed', why: this.noServerWhy } };
    let pending = this.reads.get(id);
    if (!pending) {
      pending = this.fetch(this.client, /^[a-z][a-z0-9+.-]*:/i.test(reference) ? reference : `Medication/${id}`, owner);
      this.reads.set(id, pending);
    }
    return pending;
  }

  private async fetch(client: FhirClient, target: string, owner: string): Promise<MedicationLookup> {
    const start = this.clock();
    const result = await client.get(target);
    const lookup: MedicationLookup = result.ok
      ? result.body.resourceType === 'Medication'
        ? read(result.body)
        : { failure: { reason: 'invalid-response', why: "the FHIR server's answer was not a Medication" } }
      : { failure: result.failure };
    this.fetches.push({
      key: owner,
      resourceType: 'Medication',
      source: 'fhir-server',
      outcome: lookup.failure?.reason ?? 'ok',
      durationMs: Math.round(this.clock() - start),
      requests: result.requests,
    });
    return lookup;
  }
}

function read(raw: unknown): MedicationLookup {
  const read = readResource('Medication', raw);
  if (!read) return { failure: { reason: 'malformed-resource', why: 'the medication it points to is malformed' } };
  return { medication: read.resource, ...(read.dropped.length > 0 && { dropped: read.dropped }) };
}

/** Every drug coding of an order: its medicationCodeableConcept, or the Medication's code and ingredients. */
export function drugCodings(request: MedicationRequest, medication: Medication | undefined): Coding[] {
  if (request.medicationCodeableConcept) return [...(request.medicationCodeableConcept.coding ?? [])];
  if (!medication) return [];
  return [...(medication.code?.coding ?? []), ...(medication.ingredient ?? []).flatMap((i) => i.itemCodeableConcept?.coding ?? [])];
}
