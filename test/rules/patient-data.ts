import type { Condition, MedicationRequest } from '@medplum/fhirtypes';
import type { MedicationOrder, ObservationValue, PatientData } from '../../src/shared/patient-data.js';
import { hookModule } from '../../src/cds/hooks/registry.js';

/** Small builders for PatientData, so evaluation tests state only what matters to them. */

export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const MILRINONE = { system: RXNORM, code: '52769', display: 'milrinone' };
export const DOBUTAMINE = { system: RXNORM, code: '3616', display: 'dobutamine' };
export const FUROSEMIDE = { system: RXNORM, code: '4603', display: 'furosemide' };

export function order(
  id: string | undefined,
  drug: { system: string; code: string; display: string },
  options: { origin?: 'draft' | 'active'; selected?: boolean; rate?: number } = {},
): MedicationOrder {
  const origin = options.origin ?? 'draft';
  const request: MedicationRequest = {
    resourceType: 'MedicationRequest',
    ...(id !== undefined && { id }),
    status: origin === 'draft' ? 'draft' : 'active',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [drug] },
    authoredOn: '2026-11-21T10:00:00Z',
    dosageInstruction: [
      {
        route: { coding: [{ system: 'http://snomed.info/sct', code: '47625008' }] },
        ...(options.rate !== undefined && {
          doseAndRate: [{ rateQuantity: { value: options.rate, unit: 'ug/kg/min', system: 'http://unitsofmeasure.org', code: 'ug/kg/min' } }],
        }),
      },
    ],
  };
  return { request, codings: [drug], origin, selected: options.selected ?? true };
}

export function observation(code: string, value: number, unit: string, effective: string): [string, ObservationValue[]] {
  const key = `http://loinc.org|${code}`;
  const quantity = { value, unit, system: 'http://unitsofmeasure.org', code: unit };
  return [
    key,
    [
      {
        observation: {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code }] },
          valueQuantity: quantity,
          effectiveDateTime: effective,
        },
        code: key,
        valueQuantity: quantity,
        effective,
        time: Date.parse(effective),
        fromComponent: false,
      },
    ],
  ];
}

export const HEART_FAILURE: Condition = {
  resourceType: 'Condition',
  id: 'hf',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code: '84114007' }] },
  subject: { reference: 'Patient/p1' },
};

/** A hook's moment and subjects come from its module, as the data layer sets them. */
export function patientData(overrides: Partial<PatientData> = {}): PatientData {
  const { moment, subjects } = hookModule(overrides.hook ?? 'order-sign');
  return {
    hook: 'order-sign',
    moment,
    subjects,
    patientId: 'p1',
    patient: { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1960-01-01' },
    otherDraftOrders: [],
    medicationOrders: [],
    observationsByCode: new Map(),
    conditions: [],
    allergies: [],
    serviceRequests: [],
    devices: [],
    procedures: [],
    administrations: [],
    gaps: [],
    ...overrides,
  };
}
