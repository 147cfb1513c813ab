import type { DataRequirement } from '../shared/patient-data.js';
import type { Knowledge } from './types.js';

/**
 * The prefetch keys facts read. Keys and templates are part of the service's public contract (discovery
 * advertises them and EHRs configure prefetch from them), so they are fixed here in one place.
 */

const PATIENT = '{{context.patientId}}';

export const PATIENT_REQUIREMENT: DataRequirement = {
  key: 'patient',
  label: 'Patient',
  template: `Patient/${PATIENT}`,
  resourceType: 'Patient',
  paging: 'all',
};

/** The encounter of the call's context (encounter-discharge: the one being ended). */
export const ENCOUNTER_REQUIREMENT: DataRequirement = {
  key: 'encounter',
  label: 'Encounter',
  template: 'Encounter/{{context.encounterId}}',
  resourceType: 'Encounter',
  paging: 'all',
};

export const MEDICATIONS_REQUIREMENT: DataRequirement = {
  key: 'medications',
  label: 'Active medication orders',
  template: `MedicationRequest?patient=${PATIENT}&status=active`,
  resourceType: 'MedicationRequest',
  paging: 'all',
};

export const CONDITIONS_REQUIREMENT: DataRequirement = {
  key: 'conditions',
  label: 'Active conditions',
  template: `Condition?patient=${PATIENT}&clinical-status=active,recurrence,relapse`,
  resourceType: 'Condition',
  paging: 'all',
};

export const ALLERGIES_REQUIREMENT: DataRequirement = {
  key: 'allergies',
  label: 'Allergies and intolerances',
  template: `AllergyIntolerance?patient=${PATIENT}`,
  resourceType: 'AllergyIntolerance',
  paging: 'all',
};

export const SERVICE_REQUESTS_REQUIREMENT: DataRequirement = {
  key: 'service-requests',
  label: 'Active service requests',
  template: `ServiceRequest?patient=${PATIENT}&status=active`,
  resourceType: 'ServiceRequest',
  paging: 'all',
};

/** Devices recorded for the patient (Device.patient), e.g. a central venous catheter. */
export const DEVICES_REQUIREMENT: DataRequirement = {
  key: 'devices',
  label: 'Devices',
  template: `Device?patient=${PATIENT}`,
  resourceType: 'Device',
  paging: 'all',
};

/**
 * The patient's procedures, newest first, first page only (like administrations: bounded, and the recent
 * ones matter most). Procedure has no search parameter for a code class, so the facts filter by value set.
 */
export const PROCEDURES_REQUIREMENT: DataRequirement = {
  key: 'procedures',
  label: 'Procedures',
  template: `Procedure?patient=${PATIENT}&_sort=-date&_count=100`,
  resourceType: 'Procedure',
  paging: 'latest',
};

/** Recorded administrations, newest first: evidence that an active order is actually being given. */
export const ADMINISTRATIONS_REQUIREMENT: DataRequirement = {
  key: 'administrations',
  label: 'Medication administrations',
  template: `MedicationAdministration?patient=${PATIENT}&_sort=-effective-time&_count=100`,
  resourceType: 'MedicationAdministration',
  paging: 'latest',
};

/** The newest observations coded in a value set: one search, newest first, first page only. */
export function observationRequirement(valueSetName: string, knowledge: Knowledge): DataRequirement[] {
  const valueSet = knowledge.valueSets.get(valueSetName);
  if (!valueSet || valueSet.codes.size === 0) return [];
  const codes = [...valueSet.codes.values()].map((c) => `${c.system}|${c.code}`).join(',');
  return [
    {
      key: `obs-${valueSetName}`,
      label: `${valueSet.title} observations`,
      template: `Observation?patient=${PATIENT}&code=${codes}&_sort=-date&_count=50`,
      resourceType: 'Observation',
      paging: 'latest',
    },
  ];
}

/** Union of requirement lists, one entry per key (the first seen wins), in first-seen order. */
export function mergeRequirements(...lists: readonly (readonly DataRequirement[])[]): DataRequirement[] {
  const byKey = new Map<string, DataRequirement>();
  for (const list of lists) {
    for (const requirement of list) {
      if (!byKey.has(requirement.key)) byKey.set(requirement.key, requirement);
    }
  }
  return [...byKey.values()];
}
