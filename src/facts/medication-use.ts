import { z } from 'zod';
import { durationMs, durationSchema, valueSetParam } from './params.js';
import { ADMINISTRATIONS_REQUIREMENT, MEDICATIONS_REQUIREMENT } from './requirements.js';
import type { FactDefinition } from './types.js';
import { referenceOf } from './medications.js';
import { timeOf } from './time.js';
import { codingsOf, displayOf, matchCoding } from './value-sets.js';
import { list, object, text } from './value-shape.js';

/**
 * A drug class the patient is taking or was given recently, by any route: draft and active orders coded
 * in the value set, and (with `within`) administrations of it recorded no longer ago than that. For
 * drug-drug interactions with the inotrope (a beta blocker blunts dobutamine).
 */

const medicationUseParams = z.strictObject({
  valueSet: valueSetParam,
  within: durationSchema.optional().describe('Also count administrations recorded this recently, e.g. "72h".'),
});
type MedicationUseParams = z.infer<typeof medicationUseParams>;

export interface MedicationUseRecord {
  /** The matching drug as recorded: `carvedilol 6.25 MG Oral Tablet`. */
  name: string;
  /** `active order`, `draft order` or `given 2026-11-20`. */
  how: string;
  reference: string | null;
  display: string;
}

export const medicationUse = {
  params: medicationUseParams,
  refs: (p) => [{ kind: 'valueSet', name: p.valueSet }],
  requirements: (p) => (p.within === undefined ? [MEDICATIONS_REQUIREMENT] : [MEDICATIONS_REQUIREMENT, ADMINISTRATIONS_REQUIREMENT]),
  value: list(object({ name: text, how: text, reference: text, display: text })),
  compute: (p, ctx): MedicationUseRecord[] => {
    const valueSet = ctx.knowledge.valueSets.get(p.valueSet);
    const records: MedicationUseRecord[] = [];
    for (const order of ctx.data.medicationOrders) {
      const match = matchCoding(valueSet, order.codings);
      if (!match) continue;
      const name = displayOf(match.coding, match.entry);
      const how = `${order.origin} order`;
      records.push({ name, how, reference: referenceOf(order), display: `${name} (${how})` });
    }
    const withinMs = p.within === undefined ? null : durationMs(p.within);
    if (withinMs === null) return records;
    for (const given of ctx.data.administrations) {
      // When it was given: the end of the period, now for one still running, else when it was given or started.
      const at =
        timeOf(given.effectivePeriod?.end) ??
        (given.status === 'in-progress' ? ctx.now.getTime() : timeOf(given.effectiveDateTime ?? given.effectivePeriod?.start));
      if (at === null || ctx.now.getTime() - at > withinMs) continue;
      const match = matchCoding(valueSet, codingsOf(given.medicationCodeableConcept));
      if (!match) continue;
      const name = displayOf(match.coding, match.entry, given.medicationCodeableConcept?.text);
      const how = `given ${new Date(at).toISOString().slice(0, 10)}`;
      records.push({ name, how, reference: typeof given.id === 'string' ? `MedicationAdministration/${given.id}` : null, display: `${name} (${how})` });
    }
    return records;
  },
} satisfies FactDefinition<MedicationUseParams>;
