import type { MedicationRequest } from '@medplum/fhirtypes';
import { CATEGORY_DISPLAY, CATEGORY_SYSTEM, RULE_EXTENSION, ruleOf, type Action, type Card, type Category, type RuleExtension, type Suggestion } from '../shared/card.js';
import { UCUM_SYSTEM } from '../shared/syntax.js';
import type { MedicationOrder } from '../shared/patient-data.js';
import type { Settings } from '../facts/types.js';
import { convert, formatNumber, quantityUnit } from '../facts/units.js';
import { cutSummary, lookup, render, type ParsedTemplate, type TemplateValues } from './template.js';

/**
 * A rule's card as rule files write it (strings are templates); the rules layer validates it against
 * its schema (src/rules/file-schemas.ts), which must produce this shape.
 */
export interface CardTemplate {
  indicator: Card['indicator'];
  summary: string;
  detail?: string;
  selectionBehavior?: 'at-most-one' | 'any';
  /** Prepares the start of the drafts it is about: left out when a critical card removes them (src/cards/removed-drafts.ts). */
  preparesDraft?: boolean;
  /** Other wording: the first variant whose `when` held (`<id>#variant-<i>`) replaces the summary and/or detail. */
  variants?: readonly { summary?: string; detail?: string }[];
  escalate?: { indicator: 'warning' | 'critical' };
  notes?: readonly { text: string; when?: unknown }[];
  suggestions?: readonly { label: string; isRecommended?: boolean; when?: unknown; actions: readonly ActionTemplate[] }[];
  overrideReasons?: readonly { system: string; code: string; display: string }[];
}

export type ActionTemplate =
  | { type: 'create'; description: string; resource: { resourceType: 'ServiceRequest' | 'NutritionOrder'; intent: 'proposal' } & Record<string, unknown> }
  | { type: 'update-draft-rate'; description: string; rate: number | string }
  | { type: 'delete-draft'; description: string };

/** What the card builder needs to know about the rule that fired. */
export interface CardRule {
  id: string;
  version: string;
  category: Category;
  references: readonly { label: string; url?: string; when?: unknown }[];
  card: CardTemplate;
  /** Every template string of `card`, parsed at load time. */
  templates: ReadonlyMap<string, ParsedTemplate>;
}

export interface CardInput {
  rule: CardRule;
  /** Values of the rule's placeholders: its facts, `threshold`, `table`. */
  values: TemplateValues;
  /** The order an order-scoped rule fired for. */
  subject?: MedicationOrder;
  /** Which of the card's `when` conditions held (`<id>#escalate`, `<id>#note-<i>`, `<id>#variant-<i>`, `<id>#suggestion-<i>`). */
  holds?: ReadonlySet<string>;
  settings: Settings;
  rulesetVersion: string;
  uuid: () => string;
}

/**
 * The rule file's label of each suggestion built here, unrendered: the card ledger counts accepted
 * suggestions by it, so counts do not split by patient values and no patient value is stored.
 */
const templateLabels = new WeakMap<Suggestion, string>();

/** A suggestion's label as its rule file writes it (placeholders unrendered). */
export function suggestionTemplateLabel(suggestion: Suggestion): string {
  return templateLabels.get(suggestion) ?? suggestion.label.slice(0, 200);
}

/** The rate (ug/kg/min) a card's update suggestion proposes for its subject order: what rate limits are reconciled by. */
const proposedRates = new WeakMap<Card, number>();

/** The card's indicator: `escalate.indicator` when its `when` held too, else the card's own. */
export function indicatorOf(rule: Pick<CardRule, 'id' | 'card'>, holds: ReadonlySet<string> = new Set()): Card['indicator'] {
  return rule.card.escalate && holds.has(`${rule.id}#escalate`) ? rule.card.escalate.indicator : rule.card.indicator;
}

/** Renders a fired rule's card: texts from its templates, suggestions as FHIR actions, traceable to the rule. */
export function buildCard(input: CardInput): Card {
  const { rule, settings } = input;
  const text = (source: string, markdown = false) => render(rule.templates.get(source)!, input.values, { markdown });
  // A source with a condition (one drug's label) is linked only when it holds: the card cites what it speaks of.
  const shown = rule.references.filter((r, i) => !r.when || input.holds?.has(`${rule.id}#reference-${i}`));
  const url = shown.find((r) => r.url !== undefined)?.url ?? settings.source.url;
  const links = shown.flatMap((r) => (r.url ? [{ label: linkTitle(r.label), url: r.url, type: 'absolute' as const }] : []));
  const indicator = indicatorOf(rule, input.holds);
  let proposed: number | undefined;
  const suggestions = (rule.card.suggestions ?? []).flatMap((s, i): Suggestion[] => {
    if (s.when && !input.holds?.has(`${rule.id}#suggestion-${i}`)) return [];
    const actions = s.actions.flatMap((a) => {
      const built = action(a, input, text);
      if (a.type === 'update-draft-rate' && built.length > 0) proposed = Math.min(proposed ?? Infinity, rateOf(a, input)!);
      return built;
    });
    if (actions.length === 0) return [];
    const suggestion: Suggestion = { label: text(s.label), uuid: input.uuid(), ...(s.isRecommended !== undefined && { isRecommended: s.isRecommended }), actions };
    templateLabels.set(suggestion, s.label);
    return [suggestion];
  });
  const overrideReasons =
    rule.card.overrideReasons ?? (indicator === 'info' ? undefined : settings.overrideReasons);
  const subject = input.subject?.request.id ? `MedicationRequest/${input.subject.request.id}` : undefined;
  const variant = (rule.card.variants ?? []).find((_, i) => input.holds?.has(`${rule.id}#variant-${i}`));
  const detailSource = variant?.detail ?? rule.card.detail;
  const notes = (rule.card.notes ?? []).flatMap((n, i) => (!n.when || input.holds?.has(`${rule.id}#note-${i}`) ? [text(n.text, true).trim()] : []));
  const detail = [detailSource !== undefined ? text(detailSource, true).trim() : '', ...notes].filter((p) => p).join('\n\n');
  const card: Card = {
    uuid: input.uuid(),
    summary: cutSummary(text(variant?.summary ?? rule.card.summary)),
    ...(detail && { detail }),
    indicator,
    source: {
      label: settings.source.label,
      ...(url !== undefined && { url }),
      topic: { system: CATEGORY_SYSTEM, code: rule.category, display: CATEGORY_DISPLAY[rule.category] },
    },
    ...(suggestions.length > 0 && { suggestions, selectionBehavior: rule.card.selectionBehavior ?? 'at-most-one' }),
    ...(overrideReasons && overrideReasons.length > 0 && { overrideReasons: overrideReasons.map((r) => ({ ...r })) }),
    ...(links.length > 0 && { links }),
    extension: {
      [RULE_EXTENSION]: { id: rule.id, version: rule.version, ruleset: input.rulesetVersion, ...(subject && { subject }) },
    },
  };
  if (proposed !== undefined) proposedRates.set(card, proposed);
  return card;
}

/**
 * One card per order for its rate limits: when several cards propose a rate for the same draft (the label maximum,
 * the renal table), only the one proposing the lowest rate is kept, as the most severe of them, naming every limit
 * that applied; its rule extension lists the other rules in `also`.
 */
export function reconcileRateLimits(cards: readonly Card[]): Card[] {
  const bySubject = new Map<string, Card[]>();
  for (const card of cards) {
    const subject = ruleOf(card)?.subject;
    if (subject === undefined || !proposedRates.has(card)) continue;
    bySubject.set(subject, [...(bySubject.get(subject) ?? []), card]);
  }
  const replaced = new Map<Card, Card | null>();
  for (const group of bySubject.values()) {
    if (group.length < 2) continue;
    const [limiting, ...others] = [...group].sort((a, b) => proposedRates.get(a)! - proposedRates.get(b)!);
    for (const other of others) replaced.set(other, null);
    replaced.set(limiting!, merged(limiting!, others));
  }
  return cards.flatMap((c) => {
    const r = replaced.get(c);
    return r === undefined ? [c] : r === null ? [] : [r];
  });
}

function merged(limiting: Card, others: readonly Card[]): Card {
  const all = [limiting, ...others];
  const limits = all.map((c) => `- ${c.summary}`).join('\n');
  const detail = `${limiting.detail ?? ''}\n\n**Every dose limit that applies (the lowest rate is proposed):**\n\n${limits}`.trim();
  const links = [...new Map(all.flatMap((c) => c.links ?? []).map((l) => [l.url, l])).values()];
  const indicator = all.map((c) => c.indicator).sort((a, b) => RANK[a] - RANK[b])[0]!;
  const ext = limiting.extension![RULE_EXTENSION] as RuleExtension;
  const also = others.map((c) => ({ id: ruleOf(c)!.id, version: ruleOf(c)!.version }));
  return { ...limiting, detail, indicator, ...(links.length > 0 && { links }), extension: { ...limiting.extension, [RULE_EXTENSION]: { ...ext, also } } };
}

/**
 * A reference's label as a link's title: without the bracketed source keys the rule files cite for
 * docs/references.md ("Milrinone lactate US prescribing information (LBL-MIL): …" reads "… information: …"),
 * which a clinician cannot decode. A key is an upper-case name of three or more letters and digits, hyphens
 * allowed (not a Roman numeral: "(III: Harm, B)" is a class of recommendation); "via x" names where it was read.
 */
export function linkTitle(label: string): string {
  return label.replace(BRACKETED, (group: string, inner: string) => {
    const items = inner.split(', ');
    return items.every((item) => REFERENCE_KEY.test(item) || item.startsWith('via ')) && items.some((item) => REFERENCE_KEY.test(item)) ? '' : group;
  });
}

const BRACKETED = / \(([^()]*)\)/g;
const REFERENCE_KEY = /^(?![IVX]+$)(?=[A-Z0-9-]{3,}$)[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$/;

type DoseAndRate = NonNullable<NonNullable<MedicationRequest['dosageInstruction']>[number]['doseAndRate']>[number];

function action(a: ActionTemplate, input: CardInput, text: (s: string) => string): Action[] {
  const description = text(a.description);
  const draft = input.subject?.origin === 'draft' ? input.subject.request : undefined;
  switch (a.type) {
    case 'create':
      return [{ type: 'create', description, resource: renderDeep(a.resource, text) as Action['resource'] }];
    case 'delete-draft':
      return draft?.id ? [{ type: 'delete', description, resourceId: `MedicationRequest/${draft.id}` }] : [];
    case 'update-draft-rate': {
      const rate = rateOf(a, input);
      if (!draft?.id || rate === undefined) return [];
      return [{ type: 'update', description, resource: withRate(draft, rate, infusionOf(input)) as unknown as Action['resource'] }];
    }
  }
}

function rateOf(a: Extract<ActionTemplate, { type: 'update-draft-rate' }>, input: CardInput): number | undefined {
  return typeof a.rate === 'number' ? a.rate : numberFrom(input.rule.templates.get(a.rate)!, input.values);
}

/** What the new pump rate and order text are computed from: the subject order's name, weight and concentration. */
interface Infusion {
  name: string;
  weightKg: number | null;
  /** ug/mL */
  concentration: number | null;
}

function infusionOf(input: CardInput): Infusion {
  const order = input.values.get('order') as { name?: unknown; weight?: { value?: unknown } | null; concentration?: unknown } | undefined;
  const weight = order?.weight?.value;
  return {
    name: typeof order?.name === 'string' ? order.name : 'Infusion',
    weightKg: typeof weight === 'number' && weight > 0 ? weight : null,
    concentration: typeof order?.concentration === 'number' && order.concentration > 0 ? order.concentration : null,
  };
}

/** A rate template's number: the raw value of a lone placeholder, or the rendered text read as a number. */
function numberFrom(template: ParsedTemplate, values: TemplateValues): number | undefined {
  const only = template.length === 1 ? template[0] : undefined;
  const raw = only !== undefined && typeof only !== 'string' ? lookup(values, only.ref) : Number(render(template, values));
  return typeof raw === 'number' && Number.isFinite(raw) && raw > 0 ? raw : undefined;
}

/**
 * The whole draft with its infusion rate replaced, consistently (the client updates the resource as given). The rate
 * goes into the dosage instruction that carries one (not a loading-dose instruction before it); a pump rate in mL/h
 * there is recomputed from the same weight and concentration (mL/h = ug/kg/min × kg × 60 ÷ ug/mL), or removed when
 * either is unknown; any other rate would contradict the new one and is removed. The instruction's text is rewritten.
 */
function withRate(draft: MedicationRequest, rate: number, infusion: Infusion): MedicationRequest {
  // Copies along the path that changes; the rest is shared with the request, which nothing mutates.
  const dosages = draft.dosageInstruction?.length ? [...draft.dosageInstruction] : [{}];
  const hasRate = (e: DoseAndRate) => e.rateQuantity !== undefined || e.rateRatio !== undefined || e.rateRange !== undefined;
  const found = dosages.findIndex((d) => (d.doseAndRate ?? []).some(hasRate));
  const at = found < 0 ? dosages.length - 1 : found;
  const dosage = { ...dosages[at]! };
  const entries = dosage.doseAndRate ?? [];
  const first = Math.max(0, entries.findIndex(hasRate));
  const newRate: DoseAndRate = { rateQuantity: { value: rate, unit: 'ug/kg/min', system: UCUM_SYSTEM, code: 'ug/kg/min' } };
  const { weightKg, concentration } = infusion;
  const pumpRate = weightKg !== null && concentration !== null ? Math.round(((rate * weightKg * 60) / concentration) * 10) / 10 : null;
  // A pump rate in any volume-per-time spelling the EHR uses ("mL/hr"), as the rate facts read it.
  const isPumpRate = (e: DoseAndRate) => {
    const unit = quantityUnit(e.rateQuantity);
    return unit !== null && convert(1, unit, 'mL/h') !== null;
  };
  const kept = entries.flatMap((entry, i): DoseAndRate[] => {
    const { rateQuantity: _q, rateRatio: _r, rateRange: _g, ...rest } = entry;
    if (i === first) return [{ ...rest, ...newRate }];
    if (i !== first && isPumpRate(entry) && pumpRate !== null) return [{ ...rest, rateQuantity: { value: pumpRate, unit: 'mL/h', system: UCUM_SYSTEM, code: 'mL/h' } }];
    return hasRate(entry) ? (rest.doseQuantity !== undefined || rest.doseRange !== undefined ? [rest] : []) : [entry];
  });
  dosage.doseAndRate = kept.length > 0 ? kept : [newRate];
  const shownPump = kept.find((e) => e !== kept[0] && isPumpRate(e))?.rateQuantity?.value;
  dosage.text = `${infusion.name.charAt(0).toUpperCase()}${infusion.name.slice(1)} ${formatNumber(rate)} mcg/kg/min IV infusion${shownPump !== undefined ? ` = ${shownPump} mL/h` : ''}`;
  dosages[at] = dosage;
  return { ...draft, dosageInstruction: dosages };
}

function renderDeep(value: unknown, text: (s: string) => string): unknown {
  if (typeof value === 'string') return text(value);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, text));
  if (typeof value === 'object' && value !== null) {
    const rendered: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) rendered[k] = renderDeep(v, text);
    return rendered;
  }
  return value;
}

const RANK = { critical: 0, warning: 1, info: 2 } as const;

/** Critical first, then warning, then info; a card identical to one already kept (same text and indicator) is dropped. */
export function orderCards(cards: readonly Card[]): Card[] {
  const seen = new Set<string>();
  const unique = cards.filter((c) => {
    const key = `${c.indicator}\u0000${c.summary}\u0000${c.detail ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.map((c, i) => [c, i] as const).sort((a, b) => RANK[a[0].indicator] - RANK[b[0].indicator] || a[1] - b[1]).map(([c]) => c);
}
