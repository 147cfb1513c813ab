import type { Hook } from '../shared/hooks.js';
import type { FactDefinition, Knowledge, KnowledgeRef } from '../facts/types.js';
import { durationMs } from '../facts/params.js';
import { parseTemplate, placeholders, type ParsedTemplate } from '../cards/template.js';
import type { ConditionNode, RuleCard, RuleDefinition } from './file-schemas.js';
import type { Category } from '../shared/card.js';
import { didYouMean, zodErrors, type LoadError } from './load-error.js';
import { isObject, jsonPointer as pointer } from '../shared/syntax.js';
import { KNOWN_OPERATORS, OPERATOR_DECORATORS, operatorsAt } from './operators.js';
import { checkTree, compileCondition, type CheckedTree, type FactUse, type Predicate } from './conditions.js';
import { refusedLiteral, resolveShape } from './shape-check.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- facts differ in their params type */
export type FactRegistry = Readonly<Record<string, FactDefinition<any>>>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Where a template placeholder's root name gets its value. */
export type TemplateSource = { kind: 'fact'; use: FactUse } | { kind: 'threshold' } | { kind: 'table' };

/** A rule checked against the facts, operators and knowledge, its conditions compiled. */
export interface CompiledRule {
  file: string;
  id: string;
  version: string;
  title: string;
  category: Category;
  hooks: readonly Hook[];
  status: 'active' | 'silent';
  scope: 'patient' | 'order';
  /** Order scope: at order entry, also checks the running inotrope orders (see `alsoRunning` in the rule format). */
  alsoRunning: boolean;
  requiresInotrope: boolean;
  population: RuleDefinition['population'];
  references: RuleDefinition['references'];
  card: RuleCard;
  /** json-rules-engine's `priority`: rules with a higher one are evaluated (and their cards listed) first. */
  priority: number;
  /** The rule's conditions (aliases rewritten, thresholds substituted, params parsed), compiled. */
  holds: Predicate;
  /** The same conditions as a tree, to explain an evaluation (the console's playground, `evaluate --explain`). */
  tree: CheckedTree;
  /**
   * The card's `escalate.when`, notes', variants', suggestions' and references' `when`, named `<id>#escalate` / `<id>#note-<i>` / `<id>#variant-<i>` / `<id>#suggestion-<i>` / `<id>#reference-<i>`;
   * each is evaluated once the rule's own conditions held.
   */
  parts: readonly { name: string; holds: Predicate }[];
  /** Every fact (with params) the conditions and templates read: discovery's prefetch comes from these. */
  uses: readonly FactUse[];
  /** Placeholder root names and where their values come from. */
  templateSources: ReadonlyMap<string, TemplateSource>;
  /** Every template string of the card, parsed. */
  templates: ReadonlyMap<string, ParsedTemplate>;
}

const NUMERIC_OPERATORS = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);
const THRESHOLD_FIELDS = ['value', 'unit', 'maxAge', 'source'];
const RESERVED = new Set(['threshold', 'table']);

interface RuleContext {
  file: string;
  base: readonly PropertyKey[];
  rule: RuleDefinition;
  aliases: Map<string, FactUse>;
  uses: Map<string, FactUse>;
  errors: LoadError[];
}

/**
 * Checks one rule against everything json-rules-engine would only discover at run time (unknown
 * operators, facts, params, value sets, thresholds, template names) and compiles it. Returns the
 * compiled rule, or undefined with the errors appended.
 */
export class RuleCompiler {
  private readonly operator: ReturnType<typeof operatorsAt>;
  /** One FactUse per distinct fact and params across the ruleset, so an evaluation computes each once. */
  private readonly interned = new Map<string, FactUse>();

  constructor(
    private readonly facts: FactRegistry,
    private readonly knowledge: Knowledge,
    /** `kind:name` of knowledge entries that had errors of their own: references to them are not reported again. */
    private readonly broken: ReadonlySet<string> = new Set(),
  ) {
    this.operator = operatorsAt(knowledge, new Date(0));
  }

  compile(file: string, base: readonly PropertyKey[], rule: RuleDefinition, errors: LoadError[]): CompiledRule | undefined {
    const ctx: RuleContext = { file, base, rule, aliases: new Map(), uses: new Map(), errors };
    const before = errors.length;
    for (const [alias, def] of Object.entries(rule.facts ?? {})) {
      const at = ['facts', alias];
      if (RESERVED.has(alias) || alias in this.facts) {
        this.error(ctx, at, `"${alias}" is ${RESERVED.has(alias) ? 'reserved for templates' : 'already a fact id'}: choose another name`);
        continue;
      }
      const use = this.factUse(ctx, [...at, 'fact'], def.fact, def.params, [...at, 'params']);
      if (use) ctx.aliases.set(alias, use);
    }
    const conditions = this.condition(ctx, ['conditions'], rule.conditions);
    const part = (name: string, at: PropertyKey[], when: ConditionNode) => ({ name, tree: this.condition(ctx, at, when) });
    const parts = [
      ...(rule.card.escalate ? [part(`${rule.id}#escalate`, ['card', 'escalate', 'when'], rule.card.escalate.when)] : []),
      ...(rule.card.notes ?? []).flatMap((n, i) => (n.when ? [part(`${rule.id}#note-${i}`, ['card', 'notes', i, 'when'], n.when)] : [])),
      ...(rule.card.variants ?? []).map((v, i) => part(`${rule.id}#variant-${i}`, ['card', 'variants', i, 'when'], v.when)),
      ...rule.references.flatMap((r, i) => (r.when ? [part(`${rule.id}#reference-${i}`, ['references', i, 'when'], r.when)] : [])),
      ...(rule.card.suggestions ?? []).flatMap((s, i) =>
        s.when ? [part(`${rule.id}#suggestion-${i}`, ['card', 'suggestions', i, 'when'], s.when)] : [],
      ),
    ];
    const { sources, templates } = this.cardTemplates(ctx);
    this.scopedActions(ctx);
    if (errors.length > before || rule.status === 'retired') return undefined;
    return {
      file,
      id: rule.id,
      version: rule.version,
      title: rule.title,
      category: rule.category,
      hooks: rule.hooks,
      status: rule.status,
      scope: rule.scope,
      alsoRunning: rule.alsoRunning,
      requiresInotrope: rule.requiresInotrope,
      population: rule.population,
      references: rule.references,
      card: rule.card,
      priority: rule.priority ?? 1,
      holds: this.compiled(conditions),
      tree: checkTree(conditions, (fact, params) => this.intern(fact, params)),
      parts: parts.map((p) => ({ name: p.name, holds: this.compiled(p.tree) })),
      uses: [...ctx.uses.values()],
      templateSources: sources,
      templates,
    };
  }

  private compiled(tree: ConditionNode): Predicate {
    return compileCondition(tree, (fact, params) => this.intern(fact, params));
  }

  private intern(fact: string, params: unknown): FactUse {
    const key = `${fact} ${JSON.stringify(params)}`;
    let use = this.interned.get(key);
    if (!use) {
      use = { fact, params, key };
      this.interned.set(key, use);
    }
    return use;
  }

  private error(ctx: RuleContext, at: readonly PropertyKey[], message: string): void {
    ctx.errors.push({ file: ctx.file, pointer: pointer([...ctx.base, ...at]), message });
  }

  /** Resolves a fact id with its params (validated by the fact's own schema) and checks its refs. */
  private factUse(ctx: RuleContext, at: PropertyKey[], id: string, params: unknown, paramsAt: PropertyKey[]): FactUse | undefined {
    const def = this.facts[id];
    if (!def) {
      this.error(ctx, at, `unknown fact "${id}"${didYouMean(id, [...ctx.aliases.keys(), ...Object.keys(this.facts)])}`);
      return undefined;
    }
    if (def.scope === 'order' && ctx.rule.scope !== 'order') {
      this.error(ctx, at, `"${id}" describes the order being checked, so the rule needs "scope": "order"`);
      return undefined;
    }
    const parsed = def.params.safeParse(params);
    if (!parsed.success) {
      ctx.errors.push(...zodErrors(ctx.file, parsed.error, [...ctx.base, ...paramsAt]).map((e) => ({ ...e, message: `params of "${id}": ${e.message}` })));
      return undefined;
    }
    const refs: KnowledgeRef[] = def.refs(parsed.data, this.knowledge.settings);
    let ok = true;
    for (const ref of refs) {
      if (!this.knows(ref)) {
        ok = false;
        if (!this.broken.has(`${ref.kind}:${ref.name}`)) {
          const at = [...paramsAt, ...(pathTo(params, ref.name) ?? [])];
          this.error(ctx, at, `${this.describe(ref)}${didYouMean(ref.name, this.suggestions(ref.kind))}`);
        }
      }
    }
    if (!ok) return undefined;
    const use = this.intern(id, parsed.data);
    ctx.uses.set(use.key, use);
    return use;
  }

  private names(kind: KnowledgeRef['kind']): string[] {
    const map = kind === 'valueSet' ? this.knowledge.valueSets : kind === 'threshold' ? this.knowledge.thresholds : this.knowledge.tables;
    return [...map.keys()];
  }

  /** Names to suggest for a misspelling: the defined ones and those defined with errors of their own. */
  private suggestions(kind: KnowledgeRef['kind']): string[] {
    const broken = [...this.broken].filter((b) => b.startsWith(`${kind}:`)).map((b) => b.slice(kind.length + 1));
    return [...this.names(kind), ...broken];
  }

  private knows(ref: KnowledgeRef): boolean {
    return this.names(ref.kind).includes(ref.name);
  }

  private describe(ref: KnowledgeRef): string {
    const where = { valueSet: 'value set (value-sets/*.json)', threshold: 'threshold (thresholds/*.json)', table: 'table (thresholds/*.json "tables")' };
    return `unknown ${where[ref.kind]} "${ref.name}"`;
  }

  /** A fact reference in a condition or a value: a rule-local alias or a fact id with params. */
  private reference(ctx: RuleContext, at: PropertyKey[], name: string, params: unknown): FactUse | undefined {
    const alias = ctx.aliases.get(name);
    if (alias) {
      if (params !== undefined) {
        this.error(ctx, [...at, 'params'], `"${name}" is a rule-local fact with its own params: remove "params" here`);
        return undefined;
      }
      return alias;
    }
    if (ctx.rule.facts && name in ctx.rule.facts) return undefined; // the alias itself was reported
    return this.factUse(ctx, [...at, 'fact'], name, params, [...at, 'params']);
  }

  private condition(ctx: RuleContext, at: PropertyKey[], node: ConditionNode): ConditionNode {
    for (const key of ['all', 'any'] as const) {
      const list = node[key];
      if (list) return { ...node, [key]: list.map((c, i) => this.condition(ctx, [...at, key, i], c)) };
    }
    if (node.not) return { ...node, not: this.condition(ctx, [...at, 'not'], node.not) };

    const use = this.reference(ctx, at, node.fact!, node.params);
    const operator = node.operator!;
    if (this.operatorKnown(operator) === false) {
      const base = operator.split(':').pop()!;
      const known = (KNOWN_OPERATORS as readonly string[]).includes(base);
      this.error(
        ctx,
        [...at, 'operator'],
        known
          ? `unknown operator decorator in "${operator}" (decorators: ${OPERATOR_DECORATORS.join(', ')})`
          : `unknown operator "${operator}"${didYouMean(base, KNOWN_OPERATORS)}`,
      );
    }
    const value = this.value(ctx, [...at, 'value'], operator, node.value, use);
    if (use) this.checkShape(ctx, at, node.fact!, use, node.path, { operator, value });
    const compiled: ConditionNode = { ...node, value };
    if (use) {
      compiled.fact = use.fact;
      compiled.params = use.params as Record<string, unknown>;
    }
    return compiled;
  }

  /**
   * A path the fact's value cannot have, or a literal outside the enumeration it reaches, makes a condition
   * that can never hold: refused here rather than loaded as a rule that never fires.
   */
  private checkShape(ctx: RuleContext, at: PropertyKey[], written: string, use: FactUse, path: string | undefined, compared?: { operator: string; value: unknown }): void {
    const shape = this.facts[use.fact]?.value;
    if (!shape) return;
    const resolved = resolveShape(written, shape, path, this.knowledge, use.params);
    if (!resolved.ok) {
      this.error(ctx, [...at, 'path'], resolved.message);
      return;
    }
    if (!compared) return;
    const refused = refusedLiteral({ fact: written, params: use.params, path, shape: resolved.shape }, compared.operator, compared.value, this.knowledge);
    if (refused) this.error(ctx, [...at, 'value', ...(refused.index === undefined ? [] : [refused.index])], refused.message);
  }

  private operatorKnown(name: string): boolean {
    return this.operator(name) !== null;
  }

  private value(ctx: RuleContext, at: PropertyKey[], operator: string, value: unknown, leaf: FactUse | undefined): unknown {
    if (isObject(value) && 'threshold' in value) {
      const name = value.threshold;
      const threshold = typeof name === 'string' ? this.knowledge.thresholds.get(name) : undefined;
      if (Object.keys(value).length !== 1 || typeof name !== 'string') {
        this.error(ctx, at, 'a threshold value is written { "threshold": "<name>" } and nothing else');
      } else if (!threshold) {
        if (!this.broken.has(`threshold:${name}`)) this.error(ctx, at, `unknown threshold "${name}"${didYouMean(name, this.suggestions('threshold'))}`);
      } else {
        this.checkUnit(ctx, at, leaf, name, threshold.unit);
        return this.value(ctx, at, operator, threshold.value, leaf);
      }
      return value;
    }
    if (isObject(value) && 'fact' in value) {
      if (typeof value.fact !== 'string') {
        this.error(ctx, [...at, 'fact'], 'must be a fact id or a rule-local fact name');
        return value;
      }
      const use = this.reference(ctx, at, value.fact, value.params);
      if (use) this.checkShape(ctx, at, value.fact, use, typeof value.path === 'string' ? value.path : undefined);
      return use ? { ...value, fact: use.fact, params: use.params } : value;
    }
    const expect = (ok: boolean, what: string) => {
      if (!ok) this.error(ctx, at, `"${operator}" compares with ${what}, not ${JSON.stringify(value)}`);
    };
    if (operator === 'exists') expect(typeof value === 'boolean', 'true or false');
    else if (operator === 'olderThan') expect(typeof value === 'string' && durationMs(value) !== null, 'a duration such as "48h" or "7d"');
    else if (operator === 'in' || operator === 'notIn') expect(Array.isArray(value), 'a list of values');
    else if (NUMERIC_OPERATORS.has(operator)) expect(typeof value === 'number', 'a number or { "threshold": "<name>" }');
    else if (operator === 'inValueSet') {
      if (typeof value !== 'string') expect(false, 'a value-set name');
      else if (!this.knowledge.valueSets.has(value) && !this.broken.has(`valueSet:${value}`)) {
        this.error(ctx, at, `unknown value set "${value}"${didYouMean(value, this.suggestions('valueSet'))}`);
      }
    }
    return value;
  }

  /** A threshold compared with an observation read in another unit compares different things. */
  private checkUnit(ctx: RuleContext, at: PropertyKey[], leaf: FactUse | undefined, name: string, unit: string): void {
    if (!leaf || !isObject(leaf.params)) return;
    const { unit: asked, threshold } = leaf.params as { unit?: unknown; threshold?: unknown };
    const leafUnit = typeof asked === 'string' ? asked : typeof threshold === 'string' ? this.knowledge.thresholds.get(threshold)?.unit : undefined;
    if (leafUnit !== undefined && leafUnit !== unit) {
      this.error(ctx, at, `threshold "${name}" is in ${unit} but the fact is read in ${leafUnit}: give the fact "unit": "${unit}" or "threshold": "${name}"`);
    }
  }

  private cardTemplates(ctx: RuleContext): { sources: Map<string, TemplateSource>; templates: Map<string, ParsedTemplate> } {
    const sources = new Map<string, TemplateSource>();
    const templates = new Map<string, ParsedTemplate>();
    for (const [source, at] of templateStrings(ctx.rule.card)) {
      const parsed = parseTemplate(source);
      if (!parsed.ok) {
        this.error(ctx, ['card', ...at], parsed.message);
        continue;
      }
      templates.set(source, parsed.template);
      for (const ref of placeholders(parsed.template)) {
        const root = ref[0]!;
        const where = ['card', ...at];
        if (root === 'threshold' || root === 'table') {
          const names = root === 'threshold' ? this.knowledge.thresholds : this.knowledge.tables;
          const name = ref[1];
          if (name !== undefined && this.broken.has(`${root}:${name}`)) continue;
          if (name === undefined || !names.has(name)) {
            this.error(ctx, where, `{{${ref.join('.')}}} names no ${root}${name ? didYouMean(name, this.suggestions(root === 'threshold' ? 'threshold' : 'table')) : ` (write {{${root}.<name>}})`}`);
          } else if (root === 'threshold' && ref.length > 2 && (ref.length > 3 || !THRESHOLD_FIELDS.includes(ref[2]!))) {
            this.error(ctx, where, `{{${ref.join('.')}}}: a threshold has ${THRESHOLD_FIELDS.map((f) => `.${f}`).join(', ')}`);
          } else {
            sources.set(root, { kind: root });
          }
          continue;
        }
        const alias = ctx.aliases.get(root);
        if (alias) {
          sources.set(root, { kind: 'fact', use: alias });
          continue;
        }
        if (ctx.rule.facts && root in ctx.rule.facts) continue; // the alias itself was reported
        const def = this.facts[root];
        if (!def) {
          this.error(ctx, where, `{{${ref.join('.')}}} names nothing: use a rule-local fact, a fact id, threshold.<name> or table.<name>${didYouMean(root, [...ctx.aliases.keys(), ...Object.keys(this.facts)])}`);
          continue;
        }
        if (!def.params.safeParse(undefined).success) {
          this.error(ctx, where, `{{${ref.join('.')}}}: the fact "${root}" needs params: define it under "facts" with its params and use that name`);
          continue;
        }
        const use = this.factUse(ctx, where, root, undefined, where);
        if (use) sources.set(root, { kind: 'fact', use });
      }
    }
    return { sources, templates };
  }

  private scopedActions(ctx: RuleContext): void {
    if (ctx.rule.scope === 'order') {
      // Running orders are checked only at order entry: anywhere else the flag would be read as doing something.
      if (ctx.rule.alsoRunning && !ctx.rule.hooks.some((h) => h === 'order-select' || h === 'order-sign')) {
        this.error(ctx, ['alsoRunning'], '"alsoRunning" checks running orders at order-select and order-sign, and the rule runs on neither');
      }
      return;
    }
    if (ctx.rule.alsoRunning) this.error(ctx, ['alsoRunning'], '"alsoRunning" checks orders: the rule needs "scope": "order"');
    (ctx.rule.card.suggestions ?? []).forEach((s, i) =>
      s.actions.forEach((a, j) => {
        if (a.type !== 'create') {
          this.error(ctx, ['card', 'suggestions', i, 'actions', j, 'type'], `"${a.type}" acts on the order being checked: the rule needs "scope": "order"`);
        }
      }),
    );
  }
}

/** Every template string of a card with its pointer path below `card`. */
function templateStrings(card: RuleCard): [string, PropertyKey[]][] {
  const out: [string, PropertyKey[]][] = [[card.summary, ['summary']]];
  if (card.detail !== undefined) out.push([card.detail, ['detail']]);
  (card.notes ?? []).forEach((n, i) => out.push([n.text, ['notes', i, 'text']]));
  (card.variants ?? []).forEach((v, i) => {
    if (v.summary !== undefined) out.push([v.summary, ['variants', i, 'summary']]);
    if (v.detail !== undefined) out.push([v.detail, ['variants', i, 'detail']]);
  });
  (card.suggestions ?? []).forEach((s, i) => {
    out.push([s.label, ['suggestions', i, 'label']]);
    s.actions.forEach((a, j) => {
      const at = ['suggestions', i, 'actions', j];
      out.push([a.description, [...at, 'description']]);
      if (a.type === 'create') out.push(...deepStrings(a.resource, [...at, 'resource']));
      if (a.type === 'update-draft-rate' && typeof a.rate === 'string') out.push([a.rate, [...at, 'rate']]);
    });
  });
  return out;
}

export function deepStrings(value: unknown, at: PropertyKey[]): [string, PropertyKey[]][] {
  if (typeof value === 'string') return [[value, at]];
  if (Array.isArray(value)) return value.flatMap((v, i) => deepStrings(v, [...at, i]));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => deepStrings(v, [...at, k]));
  return [];
}

/** Where in `value` the string `wanted` is written, to point at it exactly. */
function pathTo(value: unknown, wanted: string): PropertyKey[] | undefined {
  if (value === wanted) return [];
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const rest = pathTo(child, wanted);
    if (rest) return [Array.isArray(value) ? Number(key) : key, ...rest];
  }
  return undefined;
}

