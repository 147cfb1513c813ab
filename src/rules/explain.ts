import type { MedicationOrder } from '../shared/patient-data.js';
import { operatorWords } from '../shared/operator-words.js';
import type { Knowledge } from '../facts/types.js';
import type { CompiledRule } from './compile.js';
import type { CheckedTree, ConditionScope } from './conditions.js';
import type { ConditionNode, RuleDefinition } from './file-schemas.js';
import type { ConditionExplanation } from '../shared/operator-api.js';

/**
 * Why each rule did or did not fire for one request, condition by condition: the value each condition
 * read (with its date and unit), what it was compared with, and whether it held. For informaticists
 * (the console's playground, `POST /admin/evaluate`, `inotrope-cds evaluate --explain`), never for a
 * hook answer: it quotes the patient's values.
 */

const MAX_TEXT = 300;

/** Explains one rule's conditions against a scope (the same facts and memo the evaluation used). */
export function explainConditions(rule: CompiledRule, raw: RuleDefinition | undefined, scope: ConditionScope, knowledge: Knowledge): ConditionExplanation {
  const root = explainNode(rule.tree, raw?.conditions, scope, knowledge, false);
  markDeciding(root);
  return root;
}

/** Marks the comparisons that settled a (sub)tree's outcome (see `decides`), walking down from the root. */
function markDeciding(c: ConditionExplanation): void {
  if (!c.group) {
    c.decides = true;
    return;
  }
  const children = c.children ?? [];
  // Through NOT the outcome flips but the same comparisons decide.
  if (c.group === 'not') return children.forEach(markDeciding);
  const decider = children.find((x) => !x.skipped && x.passed === (c.group === 'any'));
  if (decider) markDeciding(decider);
  else children.forEach(markDeciding);
}

function explainNode(tree: CheckedTree, raw: ConditionNode | undefined, scope: ConditionScope, knowledge: Knowledge, skipped: boolean): ConditionExplanation {
  if (tree.kind === 'all' || tree.kind === 'any') {
    const rawChildren = tree.kind === 'all' ? raw?.all : raw?.any;
    const children: ConditionExplanation[] = [];
    let decided: boolean | undefined;
    tree.children.forEach((child, i) => {
      // Every condition is shown with what it read; those after the deciding one are marked as not needed.
      const c = explainNode(child, rawChildren?.[i], scope, knowledge, skipped || decided !== undefined);
      children.push(c);
      if (decided === undefined && c.passed === (tree.kind === 'any')) decided = c.passed;
    });
    const passed = decided ?? tree.kind === 'all';
    return { group: tree.kind, children, passed, ...(skipped && { skipped }) };
  }
  if (tree.kind === 'not') {
    const inner = explainNode(tree.child, raw?.not, scope, knowledge, skipped);
    return { group: 'not', children: [inner], passed: !inner.passed, ...(skipped && { skipped }) };
  }
  const { leaf } = tree;
  const label = `${raw?.fact ?? leaf.fact}${leaf.path ? ` ${leaf.path.replace(/^\$\.?/, '→ ')}` : ''}`;
  const base = { label, fact: leaf.fact, operator: operatorWords(leaf.operator, leaf.value), threshold: thresholdText(raw?.value, leaf, knowledge), ...(skipped && { skipped }) };
  try {
    const whole = scope.fact(tree.use);
    const read = tree.left(scope);
    const passed = scope.operator(leaf.operator).evaluate(read, tree.right(scope));
    return { ...base, ...describeValue(read, whole), passed };
  } catch {
    return { ...base, passed: false, error: 'the fact could not be computed from this data' };
  }
}

function thresholdText(raw: unknown, leaf: { operator: string; value: unknown }, knowledge: Knowledge): string {
  if (leaf.operator === 'exists') return '';
  if (raw !== null && typeof raw === 'object' && 'threshold' in raw && typeof raw.threshold === 'string') {
    const t = knowledge.thresholds.get(raw.threshold);
    if (t) return `${t.value} ${t.unit} (threshold ${t.name}${t.maxAge ? `, newest value within ${t.maxAge}` : ''})`;
  }
  return short(leaf.value);
}

/** The value a condition read as text, with the unit and date of the observation it came from. */
function describeValue(read: unknown, whole: unknown): { value?: string; date?: string } {
  const parent = whole !== null && typeof whole === 'object' && !Array.isArray(whole) ? (whole as Record<string, unknown>) : undefined;
  const date = typeof parent?.date === 'string' ? parent.date : undefined;
  if (read === null || read === undefined) return date ? { date } : {};
  if (typeof read === 'number' && typeof parent?.unit === 'string' && read === parent.value) return { value: `${read} ${parent.unit}`, ...(date && { date }) };
  if (read === whole && typeof parent?.display === 'string') return { value: parent.display, ...(date && { date }) };
  if (Array.isArray(read)) {
    const shown = read.slice(0, 5).map((x) => (x !== null && typeof x === 'object' && typeof (x as { display?: unknown }).display === 'string' ? (x as { display: string }).display : short(x)));
    return { value: read.length === 0 ? 'none' : `${read.length}: ${shown.join('; ')}${read.length > 5 ? '; …' : ''}` };
  }
  return { value: short(read), ...(date && { date }) };
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/** Leaf conditions that held, as sentences: why a data-quality card was raised. */
export function heldConditions(c: ConditionExplanation): string[] {
  if (c.group) return c.group === 'not' ? [] : (c.children ?? []).filter((x) => x.passed && !x.skipped).flatMap(heldConditions);
  return c.passed ? [`${c.label} ${c.operator}${c.threshold ? ` ${c.threshold}` : ''}: read ${c.value ?? 'no value'}${c.date ? ` (${c.date})` : ''}`] : [];
}

/** An order as the explanation names it: the drug and the request id. */
export function orderLabel(order: MedicationOrder): string {
  const r = order.request;
  const name = r.medicationCodeableConcept?.text ?? order.codings.find((c) => c.display)?.display ?? order.codings[0]?.code ?? 'order';
  return `${name} (${order.origin}${r.id ? `, MedicationRequest/${r.id}` : ''})`;
}
