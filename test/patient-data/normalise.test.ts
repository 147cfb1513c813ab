import { describe, expect, it } from 'vitest';
import type { DataRequirement } from '../../src/shared/patient-data.js';
import type { HookRequest } from '../../src/cds/request-schema.js';
import { activeDobutamine, CHART, resolvePatientData, draftMilrinone, options, orderSign, PATIENT_ID, patient, patientView, potassium, REQUIREMENTS, searchset } from './fixtures.js';

/** Real EHR shapes (as Synthea-generated charts carry them) through the whole data layer, from prefetch. */

const LOINC = 'http://loinc.org';
const VITALS: DataRequirement = {
  key: 'obs-vitals',
  label: 'Vital signs',
  template: `Observation?patient={{context.patientId}}&code=${LOINC}|85354-9,${LOINC}|55284-4,${LOINC}|29463-7&_sort=-date&_count=50`,
  resourceType: 'Observation',
  paging: 'latest',
};
const ALLERGIES: DataRequirement = {
  key: 'allergies',
  label: 'Allergies',
  template: 'AllergyIntolerance?patient={{context.patientId}}',
  resourceType: 'AllergyIntolerance',
  paging: 'all',
};
const SERVICE_REQUESTS: DataRequirement = {
  key: 'service-requests',
  label: 'Service requests',
  template: 'ServiceRequest?patient={{context.patientId}}',
  resourceType: 'ServiceRequest',
  paging: 'all',
};
const ALL = [...REQUIREMENTS, VITALS, ALLERGIES, SERVICE_REQUESTS];

const bp = (id: string, panel: string, when: string, components: [string, number][], extra: object = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: LOINC, code: panel }] },
  component: components.map(([code, value]) => ({
    code: { coding: [{ system: LOINC, code }] },
    valueQuantity: { value, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  })),
  effectiveDateTime: when,
  ...extra,
});

const weightLb = {
  resourceType: 'Observation',
  id: 'wt-1',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '29463-7', display: 'Body Weight' }, { system: 'http://snomed.info/sct', code: '27113001' }] },
  valueQuantity: { value: 185, unit: 'lbs', system: 'http://unitsofmeasure.org', code: '[lb_av]' },
  effectivePeriod: { start: '2026-11-20T08:00:00Z', end: '2026-11-20T08:05:00Z' },
};

const prefetch = (extra: Record<string, unknown> = {}) => ({
  ...CHART,
  allergies: searchset([]),
  'service-requests': searchset([{ resourceType: 'ServiceRequest', id: 'sr-1', status: 'active', intent: 'order', code: { coding: [{ system: LOINC, code: '24320-4' }] } }]),
  'obs-vitals': searchset([
    bp('bp-new', '85354-9', '2026-11-21T09:00:00Z', [['8480-6', 88]]), // diastolic component missing
    bp('bp-old', '55284-4', '2026-11-20T09:00:00Z', [['8480-6', 104], ['8462-4', 61]]),
    bp('bp-x', '85354-9', '2026-11-21T11:00:00Z', [['8480-6', 200]], { status: 'entered-in-error' }),
    weightLb,
  ]),
  ...extra,
});

async function resolve(request: HookRequest, requirements = ALL) {
  return resolvePatientData(request, requirements, options());
}

describe('observations', () => {
  it('indexes components by their own code, so systolic is found inside 85354-9 and 55284-4 panels (one missing its diastolic)', async () => {
    const { data } = await resolve(patientView({ prefetch: prefetch() }));
    const systolic = data.observationsByCode.get(`${LOINC}|8480-6`) ?? [];
    expect(systolic.map((v) => [v.observation.id, v.valueQuantity?.value, v.fromComponent, v.effective])).toEqual([
      ['bp-new', 88, true, '2026-11-21T09:00:00Z'],
      ['bp-old', 104, true, '2026-11-20T09:00:00Z'],
    ]);
    expect(data.observationsByCode.get(`${LOINC}|8462-4`)?.map((v) => v.observation.id)).toEqual(['bp-old']);
    expect(data.observationsByCode.get(`${LOINC}|85354-9`)?.[0]).toMatchObject({ fromComponent: false, observation: { id: 'bp-new' } });
    expect(data.gaps).toEqual([]);
  });

  it('skips cancelled and entered-in-error observations', async () => {
    const { data } = await resolve(
      patientView({
        prefetch: prefetch({ 'obs-potassium': searchset([potassium('k-c', 2.1, '2026-11-21T10:00:00Z', { status: 'cancelled' }), potassium('k-1', 4.0, '2026-11-20T10:00:00Z')]) }),
      }),
    );
    expect(data.observationsByCode.get(`${LOINC}|6298-4`)?.map((v) => v.observation.id)).toEqual(['k-1']);
    expect(data.observationsByCode.get(`${LOINC}|8480-6`)?.some((v) => v.observation.id === 'bp-x')).toBe(false);
  });

  it('keeps a weight in [lb_av] as recorded (units are converted by the facts) under every coding it carries', async () => {
    const { data } = await resolve(patientView({ prefetch: prefetch() }));
    const [weight] = data.observationsByCode.get(`${LOINC}|29463-7`) ?? [];
    expect(weight).toMatchObject({ valueQuantity: { value: 185, code: '[lb_av]' }, effective: '2026-11-20T08:05:00Z', fromComponent: false });
    expect(data.observationsByCode.get('http://snomed.info/sct|27113001')).toHaveLength(1);
  });

  it('takes the time from effectiveDateTime, effectivePeriod, effectiveInstant or issued, newest first', async () => {
    const { effectiveDateTime: _d, ...bare } = potassium('x', 0, '');
    const obs = [
      { ...bare, id: 'k-issued', valueQuantity: { value: 4.1 }, issued: '2026-11-18T00:00:00Z' },
      { ...bare, id: 'k-instant', valueQuantity: { value: 4.2 }, effectiveInstant: '2026-11-21T05:00:00.000Z' },
      { ...bare, id: 'k-period', valueQuantity: { value: 4.3 }, effectivePeriod: { start: '2026-11-19T00:00:00Z' } },
      { ...bare, id: 'k-none', valueQuantity: { value: 4.4 } },
    ];
    const { data } = await resolve(patientView({ prefetch: prefetch({ 'obs-potassium': searchset(obs) }) }));
    expect(data.observationsByCode.get(`${LOINC}|6298-4`)?.map((v) => v.observation.id)).toEqual(['k-instant', 'k-period', 'k-issued']);
    expect(data.gaps).toEqual([
      { key: 'obs-potassium', resourceType: 'Observation', reason: 'malformed-resource', message: 'Potassium observations (1 record left out: no date)' },
    ]);
  });
});

describe('defensive reading', () => {
  it('keeps a Condition whose coding is an object without its coding, and names the field', async () => {
    const broken = { resourceType: 'Condition', id: 'c-bad', code: { coding: { system: 'http://snomed.info/sct', code: '88805009' }, text: 'Chronic heart failure' } };
    const { data } = await resolve(patientView({ prefetch: prefetch({ conditions: searchset([broken, ...entries(CHART.conditions)]) }) }));
    expect(data.conditions.map((c) => c.id)).toEqual(['c-bad', 'cond-hf']);
    expect(data.conditions[0]!.code).toEqual({ text: 'Chronic heart failure' });
    expect(data.gaps).toEqual([
      { key: 'conditions', resourceType: 'Condition', reason: 'malformed-field', message: 'Conditions (a field was unreadable and ignored: /code/coding)' },
    ]);
  });

  it('leaves out an observation only when its code is unreadable; a draft order whose drug is a string stays, without a drug', async () => {
    const badDraft = { ...draftMilrinone, id: 'mr-bad', medicationCodeableConcept: 'milrinone' };
    const badValue = potassium('k-bad-value', 0, '2026-11-21T00:00:00Z', { valueQuantity: { value: '3.1', unit: 'mmol/L' } });
    const badCode = { ...potassium('k-bad-code', 0, '2026-11-21T00:00:00Z'), code: 'potassium' };
    const { data } = await resolve(orderSign({ prefetch: prefetch({ 'obs-potassium': searchset([badValue, badCode]) }) }, [draftMilrinone, badDraft]));
    expect(data.medicationOrders.filter((o) => o.origin === 'draft').map((o) => [o.request.id, o.codings.length > 0])).toEqual([
      ['mr-draft-1', true],
      ['mr-bad', false],
    ]);
    expect(data.observationsByCode.get(`${LOINC}|6298-4`)?.map((v) => [v.observation.id, v.valueQuantity])).toEqual([['k-bad-value', { unit: 'mmol/L' }]]);
    expect(data.gaps.map((g) => [g.key, g.reason, g.message])).toEqual([
      ['draftOrders', 'malformed-field', 'Draft orders (a field was unreadable and ignored: /medicationCodeableConcept)'],
      ['obs-potassium', 'malformed-resource', 'Potassium observations (1 record left out: malformed)'],
      ['obs-potassium', 'malformed-field', 'Potassium observations (a field was unreadable and ignored: /valueQuantity/value)'],
      ['draftOrders', 'malformed-resource', 'Draft orders (drug of 1 order not identified: the order names no drug)'],
    ]);
  });

  it('reads allergies, service requests and the patient', async () => {
    const { data } = await resolve(patientView({ prefetch: prefetch() }));
    expect(data.patient).toEqual(patient);
    expect(data.allergies).toEqual([]);
    expect(data.serviceRequests.map((s) => s.id)).toEqual(['sr-1']);
  });
});

describe('medication orders', () => {
  it('order-sign: every draft is selected, active orders are not; a draft also listed as active is kept once, as draft', async () => {
    const sameAsActive = { ...activeDobutamine, status: 'draft' };
    const { data } = await resolve(orderSign({ prefetch: prefetch() }, [draftMilrinone, sameAsActive]));
    expect(data.medicationOrders.map((o) => [o.request.id, o.origin, o.selected])).toEqual([
      ['mr-draft-1', 'draft', true],
      ['mr-active-1', 'draft', true],
    ]);
  });

  it('order-select: only the selections are selected; other draft orders go to otherDraftOrders', async () => {
    const diet = { resourceType: 'NutritionOrder', id: 'diet-1', status: 'draft', intent: 'order' };
    const second = { ...draftMilrinone, id: 'mr-draft-2' };
    const base = orderSign({ prefetch: prefetch() }, [draftMilrinone, second, diet]);
    const request = { ...base, hook: 'order-select', context: { ...base.context, selections: ['MedicationRequest/mr-draft-2'] } } as HookRequest;
    const { data } = await resolve(request);
    expect(data.medicationOrders.map((o) => [o.request.id, o.origin, o.selected])).toEqual([
      ['mr-draft-1', 'draft', false],
      ['mr-draft-2', 'draft', true],
      ['mr-active-1', 'active', false],
    ]);
    expect(data.otherDraftOrders.map((o) => o.id)).toEqual(['diet-1']);
  });

  it('patient-view: active orders are the subject (selected); orders that are not active are left out', async () => {
    const stopped = { ...activeDobutamine, id: 'mr-stopped', status: 'stopped' };
    const { data } = await resolve(patientView({ prefetch: prefetch({ medications: searchset([...entries(CHART.medications), stopped]) }) }));
    expect(data.medicationOrders.map((o) => [o.request.id, o.origin, o.selected])).toEqual([['mr-active-1', 'active', true]]);
  });

  it('encounter-discharge: the encounter being ended is read from its key; a malformed field is left out and named', async () => {
    const ENCOUNTER: DataRequirement = { key: 'encounter', label: 'Encounter', template: 'Encounter/{{context.encounterId}}', resourceType: 'Encounter', paging: 'all' };
    const discharge = (encounter: object): HookRequest =>
      ({
        hook: 'encounter-discharge',
        hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ec',
        context: { userId: 'Practitioner/prac-1', patientId: PATIENT_ID, encounterId: 'enc-9' },
        prefetch: { ...CHART, encounter },
      }) as HookRequest;
    const good = { resourceType: 'Encounter', id: 'enc-9', status: 'in-progress', class: { code: 'IMP' }, period: { start: '2026-11-17T18:00:00Z' } };
    const ok = await resolvePatientData(discharge(good), [...REQUIREMENTS, ENCOUNTER], options());
    expect(ok.data.encounter?.id).toBe('enc-9');
    expect(ok.data.moment).toBe('discharge');
    expect(ok.data.medicationOrders.map((o) => [o.request.id, o.origin, o.selected])).toEqual([['mr-active-1', 'active', true]]);
    expect(ok.data.gaps).toEqual([]);

    // A wrong-typed field is left out of the encounter (and named); the encounter itself is kept.
    const bad = { ...good, period: 'yesterday' };
    const malformed = await resolvePatientData(discharge(bad), [...REQUIREMENTS, ENCOUNTER], options());
    expect(malformed.data.encounter?.id).toBe('enc-9');
    expect(malformed.data.encounter?.period).toBeUndefined();
    expect(malformed.data.gaps).toEqual([expect.objectContaining({ key: 'encounter', resourceType: 'Encounter' })]);
    // An encounter of the wrong type is no encounter.
    const wrong = await resolvePatientData(discharge({ resourceType: 'Patient', id: 'enc-9' }), [...REQUIREMENTS, ENCOUNTER], options());
    expect(wrong.data.encounter).toBeUndefined();
  });

  it('resolves a contained Medication (HL7 medrx0336-style IV drip) to its code and ingredient codes', async () => {
    const drip = {
      resourceType: 'MedicationRequest',
      id: 'mr-drip',
      status: 'draft',
      intent: 'order',
      contained: [
        {
          resourceType: 'Medication',
          id: 'med0306',
          code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1791840' }] },
          ingredient: [
            {
              itemCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '52769' }] },
              strength: { numerator: { value: 20, unit: 'mg' }, denominator: { value: 100, unit: 'mL' } },
            },
          ],
        },
      ],
      medicationReference: { reference: '#med0306' },
      dosageInstruction: [{ doseAndRate: [{ rateQuantity: { value: 7.5, unit: 'mL/h', system: 'http://unitsofmeasure.org', code: 'mL/h' } }] }],
    };
    const { data } = await resolve(orderSign({ prefetch: prefetch() }, [drip]));
    const [order] = data.medicationOrders;
    expect(order?.medication?.id).toBe('med0306');
    expect(order?.codings.map((c) => c.code)).toEqual(['1791840', '52769']);
    expect(data.gaps).toEqual([]);
  });

  it('resolves a Medication carried as an _include in the medications Bundle', async () => {
    const { data } = await resolve(patientView({ prefetch: prefetch() }));
    expect(data.medicationOrders[0]?.codings.map((c) => c.code)).toEqual(['1812167', '3616']);
  });

  it('resolves a versioned reference to a Medication carried in the draftOrders bundle, which is not itself an order', async () => {
    const premix = {
      resourceType: 'Medication',
      id: 'milrinone-premix-100',
      code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1791840' }] },
    };
    const byRef = { ...draftMilrinone, id: 'mr-ref', medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/milrinone-premix-100/_history/3' } };
    const { data } = await resolve(orderSign({ prefetch: prefetch() }, [premix, byRef]));
    expect(data.medicationOrders[0]).toMatchObject({ origin: 'draft', medication: { id: 'milrinone-premix-100' } });
    expect(data.medicationOrders[0]?.codings.map((c) => c.code)).toEqual(['1791840']);
    expect(data.otherDraftOrders).toEqual([]);
    expect(data.gaps).toEqual([]);
  });

  it('reports a contained reference that points nowhere', async () => {
    const dangling = { ...draftMilrinone, id: 'mr-dangling', medicationCodeableConcept: undefined, medicationReference: { reference: '#nope' } };
    const { data } = await resolve(orderSign({ prefetch: prefetch() }, [dangling]));
    expect(data.gaps).toEqual([
      {
        key: 'draftOrders',
        resourceType: 'Medication',
        reason: 'malformed-resource',
        message: 'Draft orders (drug of 1 order not identified: the medication it points to is not contained in the order)',
      },
    ]);
  });
});

it('keeps the patient id out of every gap message', async () => {
  const { data } = await resolve(patientView({ prefetch: prefetch({ conditions: { resourceType: 'OperationOutcome' }, 'obs-vitals': 'x' }) }));
  expect(data.gaps.length).toBeGreaterThan(0);
  for (const gap of data.gaps) expect(gap.message).not.toContain(PATIENT_ID);
});

function entries(bundle: unknown): object[] {
  return ((bundle as { entry?: { resource: object }[] }).entry ?? []).map((e) => e.resource);
}
