import type { MedicationAdministration } from '@medplum/fhirtypes';
import type { DataRequirement, MedicationOrder, PatientData } from '../shared/patient-data.js';
import { identifyDrug, isInotrope, referenceOf, summarize, type OrderSummary } from './medications.js';
import { noParams, durationMs, type NoParams } from './params.js';
import { ADMINISTRATIONS_REQUIREMENT, MEDICATIONS_REQUIREMENT } from './requirements.js';
import { timeOf } from './time.js';
import type { FactDefinition, Knowledge, Settings } from './types.js';
import type { CallMemo } from './memo.js';
import { codingsOf, matchCoding } from './value-sets.js';
import { orderSummaryShape } from './medications.js';
import { date, inotropeNames, list, number } from './value-shape.js';

/**
 * Whether an active inotrope order is actually being given. An order that stays `active` on the record
 * long after it was written, with no administration recorded, is most often one nobody discontinued:
 * checking it as a running infusion would raise cards about therapy the patient is not receiving.
 */

/** Administrations recorded for the order: those that reference it, or (with no order reference) of the same drug. */
export function administrationsOf(order: MedicationOrder, data: PatientData, knowledge: Knowledge, memo: CallMemo): MedicationAdministration[] {
  const self = referenceOf(order);
  const drug = identifyDrug(order, knowledge, memo).valueSet;
  const valueSet = drug === null ? undefined : knowledge.valueSets.get(drug);
  return data.administrations.filter((a) => {
    const ref = a.request?.reference;
    if (typeof ref === 'string') return self !== null && (ref === self || ref.endsWith(`/${self}`));
    return valueSet !== undefined && matchCoding(valueSet, codingsOf(a.medicationCodeableConcept)) !== null;
  });
}

/**
 * The active inotrope orders that look stale: authored longer ago than `settings.staleOrderAge` with no
 * administration recorded. Only decided when the administrations were asked for and obtained
 * (`requirements` holds their key and no gap names it): without them nothing can be called stale.
 */
export function staleInotropeOrders(
  data: PatientData,
  now: Date,
  knowledge: Knowledge,
  requirements: readonly DataRequirement[],
  memo: CallMemo,
): MedicationOrder[] {
  const key = ADMINISTRATIONS_REQUIREMENT.key;
  if (!requirements.some((r) => r.key === key) || data.gaps.some((g) => g.key === key)) return [];
  const limit = durationMs(knowledge.settings.staleOrderAge);
  if (limit === null) return [];
  return data.medicationOrders.filter((o) => {
    if (o.origin !== 'active' || !isInotrope(o, knowledge, memo)) return false;
    const authored = timeOf(o.request?.authoredOn);
    return authored !== null && now.getTime() - authored > limit && administrationsOf(o, data, knowledge, memo).length === 0;
  });
}

export interface StaleOrderValue extends OrderSummary {
  authoredOn: string;
  ageDays: number;
}

/** The stale active inotrope orders (left out of every other fact and of the order-scoped rules). */
export const staleOrders = {
  params: noParams,
  refs: (_p, settings: Settings) => settings.inotropes.map((name) => ({ kind: 'valueSet' as const, name })),
  requirements: () => [MEDICATIONS_REQUIREMENT, ADMINISTRATIONS_REQUIREMENT],
  settings: ['inotropes', 'staleOrderAge'],
  value: list(orderSummaryShape(inotropeNames, { authoredOn: date, ageDays: number })),
  compute: (_p, ctx): StaleOrderValue[] =>
    (ctx.staleOrders ?? []).map((o) => {
      const authoredOn = o.request.authoredOn ?? '';
      const ageDays = Math.floor((ctx.now.getTime() - (timeOf(authoredOn) ?? ctx.now.getTime())) / 86_400_000);
      const summary = summarize(o, ctx.knowledge, ctx.memo);
      return { ...summary, authoredOn, ageDays, display: `${summary.name} (active order written ${authoredOn.slice(0, 10)}, none given since)` };
    }),
} satisfies FactDefinition<NoParams>;
