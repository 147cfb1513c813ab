import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DataUnavailableError } from '../../src/patient-data/resolve.js';
import { options, orderSign, REQUIREMENTS, resolvePatientData } from './fixtures.js';

/**
 * Prefetch and draft orders are checked only for being resources at the edge. Whatever shapes their
 * fields take, resolving either succeeds (bad records skipped and reported) or fails with the 412
 * error: never any other exception, which would surface as a 500.
 */

const junk = fc.jsonValue({ maxDepth: 2 });
/** Mostly well-formed, sometimes anything at all. */
const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: junk, weight: 1 });

const coding = fc.record({ system: mostly(fc.constantFrom('http://loinc.org', 'http://www.nlm.nih.gov/research/umls/rxnorm')), code: mostly(fc.constantFrom('6298-4', '52769')) });
const concept = mostly(fc.record({ coding: fc.oneof({ arbitrary: fc.array(coding, { maxLength: 2 }), weight: 6 }, { arbitrary: coding, weight: 1 }) }));
const quantity = mostly(fc.record({ value: mostly(fc.double({ noNaN: true })), unit: mostly(fc.constantFrom('mmol/L', '[lb_av]')) }));

const resource = (types: string[]) =>
  fc.record(
    {
      resourceType: fc.constantFrom(...types),
      id: mostly(fc.constantFrom('a', 'b', 'med-1')),
      status: mostly(fc.constantFrom('active', 'final', 'cancelled', 'draft')),
      code: concept,
      valueQuantity: quantity,
      component: mostly(fc.array(fc.record({ code: concept, valueQuantity: quantity }), { maxLength: 2 })),
      effectiveDateTime: mostly(fc.constantFrom('2026-11-20T10:00:00Z', '2026-11', 'yesterday')),
      effectivePeriod: mostly(fc.record({ start: mostly(fc.constant('2026-11-19')) })),
      medicationCodeableConcept: concept,
      medicationReference: mostly(fc.record({ reference: mostly(fc.constantFrom('#med-1', 'Medication/med-1', 'Medication/x', 'http://x/y')) })),
      contained: mostly(fc.array(fc.record({ resourceType: fc.constant('Medication'), id: mostly(fc.constant('med-1')), code: concept, ingredient: mostly(fc.array(fc.record({ itemCodeableConcept: concept }))) }))),
      ingredient: mostly(fc.array(fc.record({ itemCodeableConcept: concept }), { maxLength: 2 })),
      dosageInstruction: mostly(fc.array(fc.record({ doseAndRate: mostly(fc.array(fc.record({ rateQuantity: quantity }))) }), { maxLength: 2 })),
      clinicalStatus: concept,
    },
    { requiredKeys: ['resourceType'] },
  );

const TYPES = ['Patient', 'MedicationRequest', 'Medication', 'Condition', 'Observation', 'OperationOutcome'];
const keyValue = fc.oneof(
  { arbitrary: junk, weight: 1 },
  { arbitrary: resource(TYPES), weight: 1 },
  {
    arbitrary: fc.record({
      resourceType: fc.constant('Bundle'),
      entry: mostly(fc.array(fc.record({ resource: resource(TYPES) }), { maxLength: 4 })),
      link: mostly(fc.constant([])),
    }),
    weight: 4,
  },
);

describe('robustness against arbitrary prefetch and draft order shapes', () => {
  it('never throws anything but DataUnavailableError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ patient: keyValue, medications: keyValue, conditions: keyValue, 'obs-potassium': keyValue }),
        fc.array(resource(['MedicationRequest', 'ServiceRequest']), { maxLength: 3 }),
        async (prefetch, drafts) => {
          try {
            const { data } = await resolvePatientData(orderSign({ prefetch }, drafts), REQUIREMENTS, options());
            for (const gap of data.gaps) expect(gap.message.length).toBeGreaterThan(0);
          } catch (err) {
            expect(err).toBeInstanceOf(DataUnavailableError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
