import { z } from 'zod';
import type { Coding } from '@medplum/fhirtypes';
import { durationMs, durationSchema, valueSetParam } from './params.js';
import { ADMINISTRATIONS_REQUIREMENT, MEDICATIONS_REQUIREMENT } from './requirements.js';
import type { FactDefinition, ValueSet } from './types.js';
import { namesIn, orderText, orderWords, referenceOf, wordsOf } from './medications.js';
import { formatDate, timeOf } from './time.js';
import { codingsOf, displayOf, matchCoding } from './value-sets.js';
import { list, object, text } from './value-shape.js';

/**
 * A drug class the patient is taking or was given recently, by any route: draft and active orders coded
 * in the value set (or sets), and (with `within`) administrations of it recorded no longer ago than that.
 * A record none of whose codes is in a set counts when its words name the set (`matchText`): drugs with no
 * verified code list are known by name. For drug-drug interactions with the inotrope (a beta blocker
 * blunts dobutamine; vasodilators add to milrinone's fall in blood pressure).
 */

const medicationUseParams = z.strictObject({
  valueSet: z
    .union([valueSetParam, z.array(valueSetParam).min(1)])
    .describe('The drug class: a value set, or a list of sets (e.g. one per drug of the class).'),
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
  refs: (p) => setNames(p).map((name) => ({ kind: 'valueSet', name })),
  requirements: (p) => (p.within === undefined ? [MEDICATIONS_REQUIREMENT] : [MEDICATIONS_REQUIREMENT, ADMINISTRATIONS_REQUIREMENT]),
  value: list(object({ name: text, how: text, reference: text, display: text })),
  compute: (p, ctx): MedicationUseRecord[] => {
    const valueSets = setNames(p).flatMap((name) => ctx.knowledge.valueSets.get(name) ?? []);
    const records: MedicationUseRecord[] = [];
    for (const order of ctx.data.medicationOrders) {
      const name = recordName(valueSets, order.codings ?? [], undefined, () => ({ words: orderWords(order), text: orderText(order) }));
      if (name === null) continue;
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
      const concept = given.medicationCodeableConcept;
      const codings = codingsOf(concept);
      const text = typeof concept?.text === 'string' && concept.text !== '' ? concept.text : undefined;
      const name = recordName(valueSets, codings, text, () => ({ words: wordsOf([text, ...codings.map((c) => c.display)]), text: text ?? codings.find((c) => c.display)?.display }));
      if (name === null) continue;
      const how = `given ${formatDate(at, ctx.timeZone)}`;
      records.push({ name, how, reference: typeof given.id === 'string' ? `MedicationAdministration/${given.id}` : null, display: `${name} (${how})` });
    }
    return records;
  },
} satisfies FactDefinition<MedicationUseParams>;

function setNames(p: MedicationUseParams): readonly string[] {
  return typeof p.valueSet === 'string' ? [p.valueSet] : p.valueSet;
}

/**
 * How a record in one of the sets is named on a card: its matching coding's display; for a record known
 * only by its words, its own text (more specific than the set's title); null when it is in none.
 */
function recordName(
  valueSets: readonly ValueSet[],
  codings: readonly Coding[],
  text: string | undefined,
  own: () => { words: string[]; text: string | undefined },
): string | null {
  for (const valueSet of valueSets) {
    const match = matchCoding(valueSet, codings);
    if (match) return displayOf(match.coding, match.entry, text, valueSet.title);
  }
  if (!valueSets.some((valueSet) => valueSet.matchText)) return null;
  const { words, text: ownText } = own();
  const named = valueSets.find((valueSet) => namesIn(valueSet, words));
  return named ? (ownText ?? named.title) : null;
}
