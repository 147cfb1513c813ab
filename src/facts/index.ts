import { pastCourses, staleOrders } from './administrations.js';
import { checklist } from './checklist.js';
import { medicationUse } from './medication-use.js';
import { overdueObservations } from './monitoring.js';
import { changeSinceStart, conditionsSinceStart } from './during-therapy.js';
import { allergies, conditions, devices, procedures, serviceRequests } from './clinical-records.js';
import { fhirpath } from './fhirpath.js';
import { coadministered, inotropes, ivMedications, orderReasons, unidentifiedOrders } from './medications.js';
import { latestObservation, lookup, unreadableObservations } from './observations.js';
import { moment } from './moment.js';
import { order } from './order.js';
import { renalFunction } from './renal.js';
import { dataGaps, failedChecks, patient } from './patient.js';
import type { FactDefinition } from './types.js';

/** Every fact a rule file may name (docs/rule-format.md "Facts"), by id. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each fact has its own params type; the loader parses them with the fact's schema
export const FACTS: Readonly<Record<string, FactDefinition<any>>> = Object.freeze({
  latestObservation,
  conditions,
  allergies,
  serviceRequests,
  devices,
  procedures,
  inotropes,
  orderReasons,
  order,
  ivMedications,
  coadministered,
  unidentifiedOrders,
  lookup,
  renalFunction,
  unreadableObservations,
  patient,
  dataGaps,
  failedChecks,
  moment,
  fhirpath,
  staleOrders,
  pastCourses,
  overdueObservations,
  changeSinceStart,
  conditionsSinceStart,
  checklist,
  medicationUse,
});

export { mergeRequirements } from './requirements.js';
export { mergeObservationReads } from './observations.js';
export { inValueSet, codingKey } from './value-sets.js';
export { convert, displayUnit, formatNumber, formatQuantity, isUcum, toUcum } from './units.js';
export { durationMs } from './params.js';
