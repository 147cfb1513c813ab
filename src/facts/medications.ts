import { z } from 'zod';
import type { MedicationOrder } from '../shared/patient-data.js';
import { type NoParams, noParams, valueSetParam } from './params.js';
import { MEDICATIONS_REQUIREMENT } from './requirements.js';
import { LINE_GRADES, type FactContext, type FactDefinition, type Knowledge, type KnowledgeRef, type LineGrade, type LinePair, type Settings, type ValueSet, type ValueShape } from './types.js';
import { codingKey, codingsOf, displayOf, matchCoding } from './value-sets.js';
import type { CallMemo } from './memo.js';
import { boolean, inotropeNames, list, object, oneOf, text } from './value-shape.js';

/** A medication order as rules and cards see it. */
export interface OrderSummary {
  /** `MedicationRequest/<id>`, or null for a draft without an id. */
  reference: string | null;
  /** The value-set name the drug matched (`milrinone`), or the order's own drug text when none matched. */
  drug: string;
  /** The value set's title (`milrinone`), or the order's own drug text. */
  name: string;
  origin: 'draft' | 'active';
  /** How the drug was identified: a coding in its value set, or only its name (the set's `matchText`); null when neither. */
  identifiedBy: DrugIdentity['by'];
  /** The order's drug as the order words it (`Milrinone lactate 200 mcg/mL in D5W`), for naming the order on a card. */
  text: string;
  /** `milrinone (draft order)`. */
  display: string;
  /**
   * The order is for the patient's home: its category (FHIR R4 medicationrequest-category) is `community` (given in
   * the patient's home, a hospice or a care home) or `discharge` (for after discharge).
   */
  home: boolean;
}

/** An order summary's shape; `drug` is an inotrope name for inotrope orders, any drug otherwise. */
export function orderSummaryShape(drug: ValueShape, more: Record<string, ValueShape> = {}): ValueShape {
  return object({
    reference: text,
    drug,
    name: text,
    origin: oneOf('draft or active order', ['draft', 'active']),
    identifiedBy: oneOf('how the drug was identified', ['code', 'name']),
    text,
    display: text,
    home: boolean,
    ...more,
  });
}

export interface DrugIdentity {
  drug: string;
  name: string;
  /** The value set the drug matched, if any. */
  valueSet: string | null;
  /** `code`: a coding is in the set; `name`: no coding is in any set, but the order's words name it. */
  by: 'code' | 'name' | null;
}

/**
 * Which drug an order is: the first inotrope value set (settings order) its codings are in, else the
 * first other value set (file order) that is not a route or IV-product list; when no coding is in any
 * of them, the first set (same order) whose `matchText` words the order's own words contain (text,
 * displays, local codes); else the order's own text. Many facts ask it of each order, and scanning
 * every value set for a non-inotrope drug is the costly case, so it is worked out once per order in a call.
 */
export function identifyDrug(order: MedicationOrder, knowledge: Knowledge, memo: CallMemo): DrugIdentity {
  return memo.get(identify, order, knowledge);
}

function identify(order: MedicationOrder, knowledge: Knowledge): DrugIdentity {
  const codings = order.codings ?? [];
  const candidates = drugSets(knowledge);
  for (const [name, valueSet] of candidates) {
    if (matchCoding(valueSet, codings)) return { drug: name, name: valueSet.title, valueSet: name, by: 'code' };
  }
  const words = orderWords(order);
  for (const [name, valueSet] of candidates) {
    if (namesIn(valueSet, words)) return { drug: name, name: valueSet.title, valueSet: name, by: 'name' };
  }
  const code = (order.codings ?? []).find((c) => typeof c?.code === 'string' && c.code !== '')?.code;
  const text = orderText(order) ?? code ?? NO_NAME;
  return { drug: text, name: text, valueSet: null, by: null };
}

/** The sets that name drugs, inotropes first: every set but the route and IV-product lists. */
function drugSets(knowledge: Knowledge): [string, ValueSet][] {
  const { settings, valueSets } = knowledge;
  const inotropes = settings.inotropes.flatMap((name): [string, ValueSet][] => {
    const set = valueSets.get(name);
    return set ? [[name, set]] : [];
  });
  const others = [...valueSets].filter(([name]) => name !== settings.ivRoute && name !== settings.ivProducts && !settings.inotropes.includes(name));
  return [...inotropes, ...others];
}

// Text beyond this is not read for names (bounded work per record).
const MAX_TEXT = 500;

/** The lower-case words of everything the order (and its Medication) says its drug is, in order. */
export function orderWords(order: MedicationOrder): string[] {
  const { request, medication } = order;
  return wordsOf([
    request?.medicationCodeableConcept?.text,
    request?.medicationReference?.display,
    medication?.code?.text,
    ...(medication?.ingredient ?? []).map((i) => i?.itemCodeableConcept?.text),
    ...(order.codings ?? []).flatMap((c) => [c?.display, c?.code]),
  ]);
}

/** The lower-case words of the texts (non-strings skipped), each text read up to MAX_TEXT characters. */
export function wordsOf(texts: readonly unknown[]): string[] {
  return texts.flatMap((t) => (typeof t === 'string' ? t.slice(0, MAX_TEXT).toLowerCase().split(/[^a-z]+/).filter(Boolean) : []));
}

/** The words name the set: they contain one of its `matchText` phrases. */
export function namesIn(valueSet: ValueSet | undefined, words: readonly string[]): boolean {
  return valueSet?.matchText?.some((phrase) => containsPhrase(words, phrase)) ?? false;
}

/** `phrase` (lower-case words separated by single spaces) appears as consecutive words. */
function containsPhrase(words: readonly string[], phrase: string): boolean {
  const parts = phrase.split(' ');
  for (let i = 0; i + parts.length <= words.length; i++) {
    if (parts.every((p, j) => words[i + j] === p)) return true;
  }
  return false;
}

/** How the order names its drug, for a card: its first coding's display, its text, the referenced Medication's text, the reference's display, another coding's display. */
export function orderText(order: MedicationOrder): string | undefined {
  const { request, medication } = order;
  const candidates: unknown[] = [
    ...(order.codings ?? []).slice(0, 1).map((c) => c?.display),
    request?.medicationCodeableConcept?.text,
    medication?.code?.text,
    request?.medicationReference?.display,
    ...(order.codings ?? []).map((c) => c?.display),
  ];
  const text = candidates.find((t): t is string => typeof t === 'string' && t.trim() !== '');
  return text?.trim().slice(0, MAX_NAME);
}

// A drug name on a card is cut here (an order's free text can be long).
const MAX_NAME = 120;
const NO_NAME = 'a medication order that names no drug';

/** Neither a set nor any code says what the drug is (no coding with a system and code; the referenced Medication could not be read). */
function isUnidentified(order: MedicationOrder, knowledge: Knowledge, memo: CallMemo): boolean {
  return identifyDrug(order, knowledge, memo).valueSet === null && !(order.codings ?? []).some((c) => codingKey(c) !== null);
}

/** The order's drug is in one of the inotrope value sets. */
export function isInotrope(order: MedicationOrder, knowledge: Knowledge, memo: CallMemo): boolean {
  const { valueSet } = identifyDrug(order, knowledge, memo);
  return valueSet !== null && knowledge.settings.inotropes.includes(valueSet);
}

/**
 * Intravenous: a route in the IV-route value set; else, when the order states no route in a code
 * system that set uses (SNOMED CT, HL7 route of administration), a drug coding in the IV-products set.
 * An explicit other route wins over the product: heparin vials are injectables, and subcutaneous
 * heparin is not on the IV line.
 */
export function isIntravenous(order: MedicationOrder, knowledge: Knowledge): boolean {
  const { settings, valueSets } = knowledge;
  const dosages = Array.isArray(order.request?.dosageInstruction) ? order.request.dosageInstruction : [];
  const routes = valueSets.get(settings.ivRoute);
  const routeCodings = dosages.flatMap((d) => codingsOf(d?.route));
  if (matchCoding(routes, routeCodings)) return true;
  if (routes && routeCodings.some((c) => typeof c.system === 'string' && systemsOf(routes).has(c.system))) return false;
  return matchCoding(valueSets.get(settings.ivProducts), order.codings ?? []) !== null;
}

const setSystems = new WeakMap<ValueSet, ReadonlySet<string>>();

/** The code systems a set lists codes of. */
function systemsOf(valueSet: ValueSet): ReadonlySet<string> {
  let systems = setSystems.get(valueSet);
  if (!systems) {
    systems = new Set([...valueSet.codes.values()].map((c) => c.system));
    setSystems.set(valueSet, systems);
  }
  return systems;
}

export function referenceOf(order: MedicationOrder): string | null {
  const id = order.request?.id;
  return typeof id === 'string' && id !== '' ? `MedicationRequest/${id}` : null;
}

export function summarize(order: MedicationOrder, knowledge: Knowledge, memo: CallMemo): OrderSummary {
  const { drug, name, by } = identifyDrug(order, knowledge, memo);
  return {
    reference: referenceOf(order),
    drug,
    name,
    origin: order.origin,
    identifiedBy: by,
    text: orderText(order) ?? name,
    display: `${name} (${order.origin} order)`,
    home: isHomeOrder(order, knowledge),
  };
}

/** Its category is one of settings.homeOrderCategories (FHIR `community` or `discharge` in the shipped rules). */
function isHomeOrder(order: MedicationOrder, { settings, valueSets }: Knowledge): boolean {
  if (settings.homeOrderCategories === undefined) return false;
  const categories = Array.isArray(order.request.category) ? order.request.category : [];
  return matchCoding(valueSets.get(settings.homeOrderCategories), categories.flatMap((c) => codingsOf(c))) !== null;
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
  settings: ['inotropes'],
  value: object({
    drugs: list(inotropeNames),
    names: text,
    orders: list(orderSummaryShape(inotropeNames)),
    draft: list(orderSummaryShape(inotropeNames)),
    active: list(orderSummaryShape(inotropeNames)),
    display: text,
  }),
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

const orderReasonsParams = z.strictObject({ valueSet: valueSetParam });
type OrderReasonsParams = z.infer<typeof orderReasonsParams>;

export interface OrderReason extends OrderSummary {
  /** The reason as the order gives it (the coding's display, else the reason's text). */
  reason: string;
}

/**
 * The inotrope orders (draft and active) given for a reason in the value set: a `reasonCode` coded in it or,
 * for a set with `matchText`, whose words name it (a dobutamine order "for stress echocardiogram").
 */
export const orderReasons = {
  params: orderReasonsParams,
  refs: (p, settings) => [...inotropeRefs(settings), { kind: 'valueSet', name: p.valueSet }],
  requirements: () => [MEDICATIONS_REQUIREMENT],
  settings: ['inotropes'],
  value: list(orderSummaryShape(inotropeNames, { reason: text })),
  compute: (p, ctx): OrderReason[] => {
    const { knowledge, memo } = ctx;
    const valueSet = knowledge.valueSets.get(p.valueSet);
    return ctx.data.medicationOrders.flatMap((o) => {
      if (!isInotrope(o, knowledge, memo)) return [];
      const reason = reasonIn(valueSet, o.request.reasonCode);
      return reason === null ? [] : [{ ...summarize(o, knowledge, memo), reason }];
    });
  },
} satisfies FactDefinition<OrderReasonsParams>;

function reasonIn(valueSet: ValueSet | undefined, reasons: unknown): string | null {
  for (const reason of Array.isArray(reasons) ? reasons : []) {
    const codings = codingsOf(reason);
    const text = (reason as { text?: unknown } | null)?.text;
    const match = matchCoding(valueSet, codings);
    if (match) return displayOf(match.coding, match.entry, text);
    if (namesIn(valueSet, wordsOf([text, ...codings.map((c) => c.display)]))) return typeof text === 'string' && text !== '' ? text : displayOf(codings[0]);
  }
  return null;
}

const ivMedicationsParams = z
  .strictObject({
    exceptGraded: z
      .boolean()
      .optional()
      .describe('true: leave out the orders settings.lineCompatibility grades against an inotrope the patient has (a Y-site card covers them).'),
  })
  .default({});

type IvMedicationsParams = z.infer<typeof ivMedicationsParams>;

export const ivMedications = {
  params: ivMedicationsParams,
  refs: (p, settings) => [...ivRefs(settings), ...(p.exceptGraded ? lineRefs(settings) : [])],
  requirements: () => [MEDICATIONS_REQUIREMENT],
  settings: ['inotropes', 'ivRoute', 'ivProducts', 'lineCompatibility'],
  value: list(orderSummaryShape(text)),
  compute: (p, ctx): OrderSummary[] => {
    const graded = p.exceptGraded ? new Set(gradedPairs(ctx).map((g) => g.other)) : new Set<MedicationOrder>();
    return ctx.data.medicationOrders
      .filter((o) => !isInotrope(o, ctx.knowledge, ctx.memo) && isIntravenous(o, ctx.knowledge) && !graded.has(o))
      .map((o) => summarize(o, ctx.knowledge, ctx.memo));
  },
} satisfies FactDefinition<IvMedicationsParams>;

function lineRefs(settings: Settings): KnowledgeRef[] {
  return settings.lineCompatibility.flatMap((pair) => [pair.inotrope, ...pair.with].map((name) => ({ kind: 'valueSet' as const, name })));
}

interface GradedPair {
  pair: LinePair;
  drug: string;
  inotrope: MedicationOrder;
  other: MedicationOrder;
}

/** Every IV order of a drug settings.lineCompatibility grades against an inotrope order of the patient, with that inotrope order. */
function gradedPairs(ctx: FactContext): GradedPair[] {
  const { knowledge, memo } = ctx;
  const orders = ctx.data.medicationOrders;
  const result: GradedPair[] = [];
  for (const pair of knowledge.settings.lineCompatibility) {
    const inotropeOrders = orders.filter((o) => identifyDrug(o, knowledge, memo).valueSet === pair.inotrope);
    if (inotropeOrders.length === 0) continue;
    for (const drug of pair.with) {
      const set = knowledge.valueSets.get(drug);
      const others = orders.filter(
        (o) =>
          !inotropeOrders.includes(o) &&
          (matchCoding(set, o.codings ?? []) !== null || identifyDrug(o, knowledge, memo).valueSet === drug) &&
          isIntravenous(o, knowledge),
      );
      for (const inotrope of inotropeOrders) for (const other of others) result.push({ pair, drug, inotrope, other });
    }
  }
  return result;
}

const coadministeredParams = z.strictObject({
  grades: z
    .array(z.enum(LINE_GRADES))
    .min(1)
    .describe('The grades to report (settings.lineCompatibility): incompatible, variable, diluent.'),
});

type CoadministeredParams = z.infer<typeof coadministeredParams>;

export interface CoadministeredPair {
  inotrope: string;
  drug: string;
  grade: LineGrade;
  inotropeOrder: OrderSummary;
  otherOrder: OrderSummary;
  /** The source's finding for the pair, as settings.lineCompatibility words it. */
  finding: string;
  /** docs/references.md keys of the grade. */
  source: string;
  /** `milrinone + furosemide (active order)`: the other order's origin. */
  display: string;
}

export interface CoadministeredValue {
  pairs: CoadministeredPair[];
  /** The inotropes of the pairs, as a phrase: `milrinone`. */
  inotropes: string;
  /** The pairs: `milrinone + furosemide (active order), milrinone + bumetanide (draft order)`. */
  names: string;
  /** Each pair with its finding, joined with `; `. */
  display: string;
}

export const coadministered = {
  params: coadministeredParams,
  refs: (_p, settings) => [...ivRefs(settings), ...lineRefs(settings)],
  requirements: () => [MEDICATIONS_REQUIREMENT],
  settings: ['ivRoute', 'ivProducts', 'lineCompatibility'],
  value: object({
    pairs: list(
      object({
        inotrope: inotropeNames,
        drug: oneOf('settings.lineCompatibility', (k) => k.settings.lineCompatibility.flatMap((pair) => pair.with)),
        grade: oneOf('the line grades', LINE_GRADES),
        inotropeOrder: orderSummaryShape(text),
        otherOrder: orderSummaryShape(text),
        finding: text,
        source: text,
        display: text,
      }),
    ),
    inotropes: text,
    names: text,
    display: text,
  }),
  compute: (p, ctx): CoadministeredValue | null => {
    const { knowledge, memo } = ctx;
    const title = (name: string) => knowledge.valueSets.get(name)?.title ?? name;
    const pairs = gradedPairs(ctx)
      .filter((g) => p.grades.includes(g.pair.grade))
      .map(
        (g): CoadministeredPair => ({
          inotrope: g.pair.inotrope,
          drug: g.drug,
          grade: g.pair.grade,
          inotropeOrder: summarize(g.inotrope, knowledge, memo),
          otherOrder: summarize(g.other, knowledge, memo),
          finding: g.pair.finding,
          source: g.pair.source,
          display: `${title(g.pair.inotrope)} + ${title(g.drug)} (${g.other.origin} order)`,
        }),
      );
    if (pairs.length === 0) return null;
    // One line per combination: two orders of the same drug pair name it once.
    const unique = (items: string[]) => [...new Set(items)];
    const inotropes = knowledge.settings.inotropes.filter((name) => pairs.some((pair) => pair.inotrope === name)).map(title);
    return {
      pairs,
      inotropes: listText(inotropes),
      names: unique(pairs.map((pair) => pair.display)).join(', '),
      display: unique(pairs.map((pair) => `${pair.display} — ${pair.finding}`)).join('; '),
    };
  },
} satisfies FactDefinition<CoadministeredParams>;

export const unidentifiedOrders = {
  params: noParams,
  refs: () => [],
  requirements: () => [MEDICATIONS_REQUIREMENT],
  value: list(orderSummaryShape(text)),
  compute: (_p, ctx): OrderSummary[] =>
    ctx.data.medicationOrders.filter((o) => o.selected && isUnidentified(o, ctx.knowledge, ctx.memo)).map((o) => summarize(o, ctx.knowledge, ctx.memo)),
} satisfies FactDefinition<NoParams>;
