import { z } from 'zod';
import type { MedicationOrder } from '../shared/patient-data.js';
import { noParams, type NoParams } from './params.js';
import { nameSchema } from '../shared/syntax.js';
import { MEDICATIONS_REQUIREMENT } from './requirements.js';
import type { FactDefinition, Knowledge, KnowledgeRef, Settings } from './types.js';
import { codingsOf, displayOf, matchCoding } from './value-sets.js';
import type { CallMemo } from './memo.js';

/** A medication order as rules and cards see it. */
export interface OrderSummary {
  /** `MedicationRequest/<id>`, or null for a draft without an id. */
  reference: string | null;
  /** The value-set name the drug matched (`milrinone`), or the order's own drug text when none matched. */
  drug: string;
  /** The value set's title (`milrinone`), or the order's own drug text. */
  name: string;
  origin: 'draft' | 'active';
  /** `milrinone (draft order)`. */
  display: string;
}

export interface DrugIdentity {
  drug: string;
  name: string;
  /** The value set the drug matched, if any. */
  valueSet: string | null;
}

/**
 * Which drug an order is: the first inotrope value set (settings order) its codings are in, else the
 * first other value set (file order) that is not a route or IV-product list, else the order's own text.
 * Many facts ask it of each order, and scanning every value set for a non-inotrope drug is the costly
 * case, so it is worked out once per order in a call.
 */
export function identifyDrug(order: MedicationOrder, knowledge: Knowledge, memo: CallMemo): DrugIdentity {
  return memo.get(identify, order, knowledge);
}

function identify(order: MedicationOrder, knowledge: Knowledge): DrugIdentity {
  const { settings, valueSets } = knowledge;
  const codings = order.codings ?? [];
  for (const name of settings.inotropes) {
    const valueSet = valueSets.get(name);
    if (matchCoding(valueSet, codings)) return { drug: name, name: valueSet?.title ?? name, valueSet: name };
  }
  for (const [name, valueSet] of valueSets) {
    if (name === settings.ivRoute || name === settings.ivProducts || settings.inotropes.includes(name)) continue;
    if (matchCoding(valueSet, codings)) return { drug: name, name: valueSet.title, valueSet: name };
  }
  const concept = order.request?.medicationCodeableConcept ?? order.medication?.code;
  const text = displayOf(codings[0], undefined, concept?.text ?? order.request?.medicationReference?.display);
  return { drug: text, name: text, valueSet: null };
}

/** The order's drug is in one of the inotrope value sets. */
export function isInotrope(order: MedicationOrder, knowledge: Knowledge, memo: CallMemo): boolean {
  const { valueSet } = identifyDrug(order, knowledge, memo);
  return valueSet !== null && knowledge.settings.inotropes.includes(valueSet);
}

/** Intravenous: a route in the IV-route value set, or a drug coding in the IV-products value set. */
export function isIntravenous(order: MedicationOrder, knowledge: Knowledge): boolean {
  const { settings, valueSets } = knowledge;
  const dosages = Array.isArray(order.request?.dosageInstruction) ? order.request.dosageInstruction : [];
  const routes = valueSets.get(settings.ivRoute);
  if (dosages.some((d) => matchCoding(routes, codingsOf(d?.route)))) return true;
  return matchCoding(valueSets.get(settings.ivProducts), order.codings ?? []) !== null;
}

export function referenceOf(order: MedicationOrder): string | null {
  const id = order.request?.id;
  return typeof id === 'string' && id !== '' ? `MedicationRequest/${id}` : null;
}

export function summarize(order: MedicationOrder, knowledge: Knowledge, memo: CallMemo): OrderSummary {
  const { drug, name } = identifyDrug(order, knowledge, memo);
  return { reference: referenceOf(order), drug, name, origin: order.origin, display: `${name} (${order.origin} order)` };
}

/** "a", "a and b", "a, b and c". */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function inotropeRefs(settings: Settings): KnowledgeRef[] {
  return settings.inotropes.map((name) => ({ kind: 'valueSet', name }));
}

function ivRefs(settings: Settings): KnowledgeRef[] {
  return [
    ...inotropeRefs(settings),
    { kind: 'valueSet', name: settings.ivRoute },
    { kind: 'valueSet', name: settings.ivProducts },
  ];
}

export interface InotropesValue {
  /** Value-set names of the inotropes ordered, in settings order. */
  drugs: string[];
  /** Their titles as a phrase: `dobutamine and milrinone`. */
  names: string;
  orders: OrderSummary[];
  draft: OrderSummary[];
  active: OrderSummary[];
  display: string;
}

export const inotropes = {
  params: noParams,
  refs: (_p, settings) => inotropeRefs(settings),
  requirements: () => [MEDICATIONS_REQUIREMENT],
  compute: (_p, ctx): InotropesValue => {
    const { knowledge, memo } = ctx;
    const orders = ctx.data.medicationOrders.filter((o) => isInotrope(o, knowledge, memo)).map((o) => summarize(o, knowledge, memo));
    const present = new Set(orders.map((o) => o.drug));
    const drugs = knowledge.settings.inotropes.filter((name) => present.has(name));
    const names = listText(drugs.map((name) => knowledge.valueSets.get(name)?.title ?? name));
    return {
      drugs,
      names,
      orders,
      draft: orders.filter((o) => o.origin === 'draft'),
      active: orders.filter((o) => o.origin === 'active'),
      display: names,
    };
  },
} satisfies FactDefinition<NoParams>;

export const ivMedications = {
  params: noParams,
  refs: (_p, settings) => ivRefs(settings),
  requirements: () => [MEDICATIONS_REQUIREMENT],
  compute: (_p, ctx): OrderSummary[] =>
    ctx.data.medicationOrders
      .filter((o) => !isInotrope(o, ctx.knowledge, ctx.memo) && isIntravenous(o, ctx.knowledge))
      .map((o) => summarize(o, ctx.knowledge, ctx.memo)),
} satisfies FactDefinition<NoParams>;

const coadministeredParams = z.strictObject({
  pairs: z
    .array(z.strictObject({ inotrope: nameSchema, with: z.array(nameSchema).min(1) }))
    .min(1),
});

export interface CoadministeredValue {
  inotrope: string;
  drug: string;
  inotropeOrder: OrderSummary;
  otherOrder: OrderSummary;
  /** `milrinone + furosemide (draft order)`: the other order's origin. */
  display: string;
}

export const coadministered = {
  params: coadministeredParams,
  refs: (p, settings) => [
    ...ivRefs(settings),
    ...p.pairs.flatMap((pair) => [pair.inotrope, ...pair.with].map((name) => ({ kind: 'valueSet' as const, name }))),
  ],
  requirements: () => [MEDICATIONS_REQUIREMENT],
  compute: (p, ctx): CoadministeredValue[] => {
    const { knowledge, memo } = ctx;
    const orders = ctx.data.medicationOrders;
    const result: CoadministeredValue[] = [];
    for (const pair of p.pairs) {
      const inotropeSet = knowledge.valueSets.get(pair.inotrope);
      const inotropeOrders = orders.filter((o) => matchCoding(inotropeSet, o.codings ?? []));
      if (inotropeOrders.length === 0) continue;
      for (const other of pair.with) {
        const otherSet = knowledge.valueSets.get(other);
        const otherOrders = orders.filter(
          (o) => !inotropeOrders.includes(o) && matchCoding(otherSet, o.codings ?? []) && isIntravenous(o, knowledge),
        );
        for (const inotropeOrder of inotropeOrders) {
          for (const otherOrder of otherOrders) {
            const a = summarize(inotropeOrder, knowledge, memo);
            const b = summarize(otherOrder, knowledge, memo);
            const inotropeName = inotropeSet?.title ?? pair.inotrope;
            const otherName = otherSet?.title ?? other;
            result.push({
              inotrope: pair.inotrope,
              drug: other,
              inotropeOrder: a,
              otherOrder: b,
              display: `${inotropeName} + ${otherName} (${otherOrder.origin} order)`,
            });
          }
        }
      }
    }
    return result;
  },
} satisfies FactDefinition<z.infer<typeof coadministeredParams>>;
