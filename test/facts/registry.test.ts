import fc from 'fast-check';
import type { Observation } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { MedicationOrder, ObservationValue, PatientData } from '../../src/shared/patient-data.js';
import { FACTS, inValueSet, mergeRequirements } from '../../src/facts/index.js';
import { patientBundle, withEvaluationTime } from '../../src/facts/fhirpath.js';
import { MEDICATIONS_REQUIREMENT, PATIENT_REQUIREMENT } from '../../src/facts/requirements.js';
import { condition, context, knowledge, LOINC, medicationOrder, observation, patientData, RXNORM, SNOMED } from './builder.js';

/** One valid params value per fact, as a rule file would write it. */
const EXAMPLE_PARAMS: Record<string, unknown> = {
  latestObservation: { valueSet: 'potassium', threshold: 'potassium-low' },
  conditions: { valueSet: 'hypertrophic-obstruction' },
  allergies: { valueSet: 'inotrope-allergy' },
  serviceRequests: { valueSet: 'telemetry' },
  devices: { valueSet: 'central-venous-catheter' },
  procedures: { valueSet: 'palliative-care', within: '7d' },
  inotropes: undefined,
  orderReasons: { valueSet: 'stress-echo' },
  order: {},
  ivMedications: undefined,
  unidentifiedOrders: undefined,
  coadministered: { grades: ['incompatible'] },
  lookup: { table: 'milrinone-renal-rate', observation: { valueSet: 'egfr', maxAge: '7d' } },
  renalFunction: { table: 'milrinone-renal-rate', maxAge: '72h', egfr: 'egfr', clearance: 'creatinine-clearance', creatinine: 'creatinine', dialysis: 'esrd-or-dialysis' },
  patient: undefined,
  dataGaps: undefined,
  failedChecks: undefined,
  unreadableObservations: undefined,
  staleOrders: undefined,
  pastCourses: { within: '180d', gap: '24h' },
  changeSinceStart: { valueSet: 'potassium', unit: 'mmol/L', baselineWithin: '24h', maxAge: '4h' },
  conditionsSinceStart: { valueSets: ['hypertrophic-obstruction'] },
  overdueObservations: { items: [{ valueSet: 'potassium', every: '24h', unit: 'mmol/L' }] },
  moment: undefined,
  medicationUse: { valueSet: 'furosemide', within: '72h' },
  checklist: { items: [{ id: 'line', label: 'Central line', evidence: [{ devices: 'central-venous-catheter' }] }, { id: 'teaching', label: 'Teaching' }] },
  fhirpath: { expression: "Bundle.entry.resource.ofType(Condition).code.coding.where(system = 'http://snomed.info/sct').code" },
};

describe('FACTS registry', () => {
  it('holds exactly the facts of docs/rule-format.md', () => {
    expect(Object.keys(FACTS).sort()).toEqual(Object.keys(EXAMPLE_PARAMS).sort());
    expect(Object.isFrozen(FACTS)).toBe(true);
  });

  it('every fact names only knowledge that exists, for its example params', () => {
    const k = knowledge();
    for (const [id, raw] of Object.entries(EXAMPLE_PARAMS)) {
      const definition = FACTS[id]!;
      const params = definition.params.parse(raw);
      for (const ref of definition.refs(params, k.settings)) {
        const store = ref.kind === 'valueSet' ? k.valueSets : ref.kind === 'threshold' ? k.thresholds : k.tables;
        expect(store.has(ref.name), `${id} → ${ref.kind} ${ref.name}`).toBe(true);
      }
    }
  });

  it('rejects unknown params keys on every fact', () => {
    for (const [id, raw] of Object.entries(EXAMPLE_PARAMS)) {
      const withTypo = { ...(typeof raw === 'object' && raw !== null ? raw : {}), typo: true };
      expect(() => FACTS[id]!.params.parse(withTypo), id).toThrow();
    }
  });

  it('only the facts about the subject order are order-scoped', () => {
    expect(Object.entries(FACTS).filter(([, d]) => d.scope === 'order').map(([id]) => id).sort()).toEqual(['changeSinceStart', 'checklist', 'conditionsSinceStart', 'order']);
  });

  it('the union of all requirements uses the documented keys and STU2 tokens only', () => {
    const k = knowledge();
    const all = mergeRequirements(
      ...Object.entries(EXAMPLE_PARAMS).map(([id, raw]) => FACTS[id]!.requirements(FACTS[id]!.params.parse(raw), k)),
    );
    expect(all.map((r) => r.key).sort()).toEqual(
      ['administrations', 'allergies', 'conditions', 'devices', 'medications', 'obs-body-weight', 'obs-creatinine', 'obs-creatinine-clearance', 'obs-egfr', 'obs-potassium', 'patient', 'procedures', 'service-requests'].sort(),
    );
    for (const r of all) {
      const tokens = r.template.match(/\{\{[^}]*\}\}/g) ?? [];
      expect(tokens.every((t) => t === '{{context.patientId}}'), r.key).toBe(true);
    }
    expect(all.find((r) => r.key === 'patient')).toEqual({
      key: 'patient',
      label: 'Patient',
      template: 'Patient/{{context.patientId}}',
      resourceType: 'Patient',
      paging: 'all',
    });
  });
});

describe('mergeRequirements', () => {
  it('keeps one entry per key, first seen first', () => {
    const obs = FACTS.latestObservation!.requirements({ valueSet: 'potassium' }, knowledge());
    expect(mergeRequirements([PATIENT_REQUIREMENT, MEDICATIONS_REQUIREMENT], obs, [MEDICATIONS_REQUIREMENT, PATIENT_REQUIREMENT], obs).map((r) => r.key)).toEqual([
      'patient',
      'medications',
      'obs-potassium',
    ]);
    expect(mergeRequirements()).toEqual([]);
  });
});

describe('inValueSet (for the operator)', () => {
  const k = knowledge();
  it('accepts a Coding, a CodeableConcept, system|code, or arrays of them', () => {
    expect(inValueSet(k, 'milrinone', { system: RXNORM, code: '52769' })).toBe(true);
    expect(inValueSet(k, 'milrinone', { coding: [{ system: SNOMED, code: '1' }, { system: RXNORM, code: '1791840' }] })).toBe(true);
    expect(inValueSet(k, 'potassium', `${LOINC}|6298-4`)).toBe(true);
    expect(inValueSet(k, 'potassium', [`${LOINC}|1-1`, { system: LOINC, code: '2823-3' }])).toBe(true);
  });

  it('is false for other codes, other systems, unknown value sets and junk', () => {
    expect(inValueSet(k, 'milrinone', { system: SNOMED, code: '52769' })).toBe(false);
    expect(inValueSet(k, 'milrinone', '52769')).toBe(false);
    expect(inValueSet(k, 'no-such-set', `${RXNORM}|52769`)).toBe(false);
    for (const junk of [null, undefined, 42, {}, [], [[`${RXNORM}|52769`]], { coding: 'x' }]) {
      expect(inValueSet(k, 'milrinone', junk)).toBe(false);
    }
  });
});

describe('patient and dataGaps', () => {
  it('gives id, gender and age in whole years', () => {
    const data = patientData({ patient: { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1958-11-22' } });
    expect(FACTS.patient!.compute({}, context(data))).toEqual({
      id: 'p1',
      gender: 'female',
      ageYears: 67,
      adult: true,
      deceased: false,
      deceasedDate: null,
      display: 'female, 67 y',
    });
  });

  it('copes with a partial birth date and with no Patient resource', () => {
    const partial = patientData({ patient: { resourceType: 'Patient', birthDate: '1958' } });
    expect(FACTS.patient!.compute({}, context(partial))).toMatchObject({ ageYears: 68, gender: null });
    expect(FACTS.patient!.compute({}, context(patientData()))).toEqual({
      id: 'p1',
      gender: null,
      ageYears: null,
      adult: null,
      deceased: false,
      deceasedDate: null,
      display: 'patient',
    });
  });

  it('lists the data that could not be obtained', () => {
    const data = patientData({
      gaps: [{ key: 'obs-potassium', resourceType: 'Observation', reason: 'timeout', message: 'Potassium observations: the FHIR server did not answer in time' }],
    });
    expect(FACTS.dataGaps!.compute({}, context(data))).toEqual([
      { key: 'obs-potassium', resourceType: 'Observation', reason: 'timeout', display: 'Potassium observations: the FHIR server did not answer in time' },
    ]);
  });
});

describe('fhirpath', () => {
  const data = patientData({
    patient: { resourceType: 'Patient', id: 'p1', gender: 'male' },
    conditions: [condition('88805009'), condition('195967001')],
    orders: [medicationOrder({ code: '52769', id: 'mil' })],
    observations: [observation({ code: '8867-4', value: 128, unit: '/min', hoursAgo: 1 })],
  });

  it('evaluates over a Bundle of all the patient resources', () => {
    const params = FACTS.fhirpath!.params.parse(EXAMPLE_PARAMS.fhirpath);
    expect(FACTS.fhirpath!.compute(params, context(data))).toEqual(['88805009', '195967001']);
    const hr = { expression: 'Bundle.entry.resource.ofType(Observation).value.value' };
    expect(FACTS.fhirpath!.compute(hr, context(data))).toEqual([128]);
    expect(patientBundle(data).entry).toHaveLength(5);
  });

  it('reads the evaluation time, not the wall clock, for now(), today() and timeOfDay()', () => {
    const at = (expression: string) => FACTS.fhirpath!.compute({ expression }, context(data));
    expect(at('now()')).toEqual(['2026-11-21T12:00:00.000Z']);
    expect(at('%now')).toEqual(['2026-11-21T12:00:00.000Z']);
    expect(at('today()')).toEqual(['2026-11-21']);
    expect(at('timeOfDay()')).toEqual(['12:00:00.000Z']);
    const recorded = { expression: 'Bundle.entry.resource.ofType(Observation).where(effective < now()).value.value' };
    expect(FACTS.fhirpath!.compute(recorded, context(data))).toEqual([128]);
    expect(FACTS.fhirpath!.compute(recorded, context(data, { now: new Date('2026-11-21T10:00:00Z') }))).toEqual([]);
    expect(withEvaluationTime("'now()' & now() & x.today()")).toBe("'now()' & %now & x.today()");
  });

  it('rejects an expression that does not parse, at load time', () => {
    expect(() => FACTS.fhirpath!.params.parse({ expression: 'Bundle.entry.where(' })).toThrow();
    expect(() => FACTS.fhirpath!.params.parse({ expression: '' })).toThrow();
  });
});

describe('malformed input', () => {
  // Whatever slips past the data layer (wrong types, missing parts) must give no value, never an exception.
  const junk = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.array(fc.anything(), { maxLength: 3 }), fc.object());

  const malformedData = fc.record({
    valueQuantity: junk,
    effective: fc.oneof(fc.string(), fc.constant('2026-11-21T00:00:00Z')),
    observation: fc.oneof(junk, fc.constant({ resourceType: 'Observation', status: 'final' })),
    request: fc.record({
      resourceType: fc.constant('MedicationRequest'),
      id: junk,
      authoredOn: junk,
      dosageInstruction: fc.oneof(junk, fc.array(fc.record({ route: junk, doseAndRate: fc.oneof(junk, fc.array(fc.record({ rateQuantity: junk, rateRatio: junk, rateRange: junk, doseQuantity: junk, type: junk }))), timing: junk }))),
      medicationReference: junk,
      contained: junk,
    }),
    medication: fc.oneof(fc.constant(undefined), fc.record({ resourceType: fc.constant('Medication'), ingredient: junk })),
    coding: junk,
    resource: fc.record({ resourceType: fc.constantFrom('Condition', 'AllergyIntolerance', 'ServiceRequest'), code: junk, clinicalStatus: junk, verificationStatus: junk, reaction: junk, status: junk, onsetDateTime: junk }),
    patient: fc.record({ resourceType: fc.constant('Patient'), birthDate: junk, gender: junk }),
  });

  it('never throws from any fact', () => {
    const k = knowledge();
    fc.assert(
      fc.property(malformedData, (m) => {
        const codes = [`${LOINC}|2823-3`, `${LOINC}|29463-7`, `${LOINC}|62238-1`];
        const value = { observation: m.observation as Observation, code: codes[0]!, valueQuantity: m.valueQuantity, effective: m.effective, time: Date.parse(m.effective), fromComponent: false } as ObservationValue;
        const order = { request: m.request, medication: m.medication, codings: [m.coding, { system: RXNORM, code: '52769' }], origin: 'draft', selected: true } as unknown as MedicationOrder;
        const base = patientData();
        const data: PatientData = {
          ...base,
          patient: m.patient as PatientData['patient'],
          medicationOrders: [order],
          observationsByCode: new Map(codes.map((c) => [c, [{ ...value, code: c }]])),
          conditions: [m.resource as never],
          allergies: [m.resource as never],
          serviceRequests: [m.resource as never],
          otherDraftOrders: [m.resource as never],
        };
        for (const [id, raw] of Object.entries(EXAMPLE_PARAMS)) {
          const definition = FACTS[id]!;
          const result = definition.compute(definition.params.parse(raw), context(data, { subject: order, knowledge: k }));
          expect(result).not.toBeUndefined();
          expect(() => JSON.stringify(result)).not.toThrow();
        }
      }),
      { numRuns: 300 },
    );
  });
});
