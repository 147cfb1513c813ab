import type { MedicationRequest } from '@medplum/fhirtypes';
import { CATEGORY_DISPLAY, CATEGORY_SYSTEM, RULE_EXTENSION, type Action, type Card, type Category, type Suggestion } from '../shared/card.js';
import { UCUM_SYSTEM } from '../shared/syntax.js';
import type { MedicationOrder } from '../shared/patient-data.js';
import type { Settings } from '../facts/types.js';
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
  escalate?: { indicator: 'warning' | 'critical' };
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
  references: readonly { label: string; url?: string }[];
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
  /** Which of the card's `when` conditions held (`<id>#escalate`, `<id>#suggestion-<i>`). */
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

/** The card's indicator: `escalate.indicator` when its `when` held too, else the card's own. */
export function indicatorOf(rule: Pick<CardRule, 'id' | 'card'>, holds: ReadonlySet<string> = new Set()): Card['indicator'] {
  return rule.card.escalate && holds.has(`${rule.id}#escalate`) ? rule.card.escalate.indicator : rule.card.indicator;
}

/** Renders a fired rule's card: texts from its templates, suggestions as FHIR actions, traceable to the rule. */
export function buildCard(input: CardInput): Card {
  const { rule, settings } = input;
  const text = (source: string, markdown = false) => render(rule.templates.get(source)!, input.values, { markdown });
  const url = rule.references.find((r) => r.url !== undefined)?.url ?? settings.source.url;
  const links = rule.references.flatMap((r) => (r.url ? [{ label: r.label, url: r.url, type: 'absolute' as const }] : []));
  const indicator = indicatorOf(rule, input.holds);
  const suggestions = (rule.card.suggestions ?? []).flatMap((s, i): Suggestion[] => {
    if (s.when && !input.holds?.has(`${rule.id}#suggestion-${i}`)) return [];
    const actions = s.actions.flatMap((a) => action(a, input, text));
    if (actions.length === 0) return [];
    const suggestion: Suggestion = { label: text(s.label), uuid: input.uuid(), ...(s.isRecommended !== undefined && { isRecommended: s.isRecommended }), actions };
    templateLabels.set(suggestion, s.label);
    return [suggestion];
  });
  const overrideReasons =
    rule.card.overrideReasons ?? (indicator === 'info' ? undefined : settings.overrideReasons);
  const subject = input.subject?.request.id ? `MedicationRequest/${input.subject.request.id}` : undefined;
  const detail = rule.card.detail !== undefined ? text(rule.card.detail, true).trim() : '';
  return {
    uuid: input.uuid(),
    summary: cutSummary(text(rule.card.summary)),
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
}

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
      const rate = typeof a.rate === 'number' ? a.rate : numberFrom(input.rule.templates.get(a.rate)!, input.values);
      if (!draft?.id || rate === undefined) return [];
      return [{ type: 'update', description, resource: withRate(draft, rate) as unknown as Action['resource'] }];
    }
  }
}

/** A rate template's number: the raw value of a lone placeholder, or the rendered text read as a number. */
function numberFrom(template: ParsedTemplate, values: TemplateValues): number | undefined {
  const only = template.length === 1 ? template[0] : undefined;
  const raw = only !== undefined && typeof only !== 'string' ? lookup(values, only.ref) : Number(render(template, values));
  return typeof raw === 'number' && Number.isFinite(raw) && raw > 0 ? raw : undefined;
}

/**
 * The whole draft with its infusion rate replaced (the client updates the resource as given). The rate goes
 * into the dosage instruction that carries one (not a loading-dose instruction before it); every other rate
 * there (a calculated pump rate in mL/h) is removed, since it would contradict the new rate.
 */
function withRate(draft: MedicationRequest, rate: number): MedicationRequest {
  // Copies along the path that changes; the rest is shared with the request, which nothing mutates.
  const dosages = draft.dosageInstruction?.length ? [...draft.dosageInstruction] : [{}];
  const hasRate = (e: DoseAndRate) => e.rateQuantity !== undefined || e.rateRatio !== undefined || e.rateRange !== undefined;
  const found = dosages.findIndex((d) => (d.doseAndRate ?? []).some(hasRate));
  const at = found < 0 ? dosages.length - 1 : found;
  const dosage = { ...dosages[at]! };
  const entries = dosage.doseAndRate ?? [];
  const first = Math.max(0, entries.findIndex(hasRate));
  const newRate: DoseAndRate = { rateQuantity: { value: rate, unit: 'ug/kg/min', system: UCUM_SYSTEM, code: 'ug/kg/min' } };
  const kept = entries.flatMap((entry, i): DoseAndRate[] => {
    const { rateQuantity: _q, rateRatio: _r, rateRange: _g, ...rest } = entry;
    if (i === first) return [{ ...rest, ...newRate }];
    return hasRate(entry) ? (rest.doseQuantity !== undefined || rest.doseRange !== undefined ? [rest] : []) : [entry];
  });
  dosage.doseAndRate = kept.length > 0 ? kept : [newRate];
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
