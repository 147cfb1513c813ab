import type { Hook } from '../cds/request-schema.js';
import type { Card } from '../cds/response-schema.js';
import type { DataRequirement, MedicationOrder } from '../patient-data/patient-data.js';
import type { FactContext, Knowledge } from '../facts/types.js';
import { isInotrope } from '../facts/medications.js';
import { buildCard, indicatorOf, orderCards } from '../cards/build-card.js';
import { formatQuantity } from '../facts/units.js';
import type { CompiledRule, FactRegistry } from './compile.js';
import type { ConditionScope, FactUse } from './conditions.js';
import { operatorsAt } from './operators.js';
import type { EvaluationResult, Ruleset } from './ruleset.js';

export interface RulesetParts {
  version: string;
  loadedAt: string;
  counts: Ruleset['counts'];
  knowledge: Knowledge;
  facts: FactRegistry;
  rules: readonly CompiledRule[];
  requirements: ReadonlyMap<Hook, readonly DataRequirement[]>;
}

type Fired = EvaluationResult['fired'][number];

/**
 * The ruleset as the service runs it: rules compiled at load time (src/rules/conditions.ts), evaluated
 * in priority order against facts computed at most once per evaluation (order facts once per order).
 */
export function createRuleset(parts: RulesetParts): Ruleset {
  const byHook = new Map<Hook, CompiledRule[]>();
  // Stable: equal priorities keep their order in the rule files.
  for (const rule of [...parts.rules].sort((a, b) => b.priority - a.priority)) {
    for (const hook of rule.hooks) byHook.set(hook, [...(byHook.get(hook) ?? []), rule]);
  }
  const { knowledge, facts } = parts;
  const thresholdValues = Object.fromEntries(
    [...knowledge.thresholds.values()].map((t) => [t.name, { ...t, display: formatQuantity(t.value, t.unit) }]),
  );
  const tableValues = Object.fromEntries([...knowledge.tables.values()].map((t) => [t.name, { ...t, display: t.name }]));

  /** Facts of one evaluation: patient facts shared by every subject order, order facts per order. */
  function scopeFor(ctx: FactContext, shared: Map<string, unknown>, operator: ConditionScope['operator']): ConditionScope {
    const own = new Map<string, unknown>();
    return {
      operator,
      fact(use: FactUse) {
        const def = facts[use.fact]!;
        const memo = def.scope === 'order' ? own : shared;
        if (memo.has(use.key)) return memo.get(use.key);
        const value = def.compute(use.params, ctx);
        memo.set(use.key, value);
        return value;
      },
    };
  }

  function run(rules: readonly CompiledRule[], scope: ConditionScope, subject: MedicationOrder | undefined) {
    return rules
      .filter((rule) => rule.holds(scope))
      .map((rule) => {
        const holds = new Set(rule.parts.filter((p) => p.holds(scope)).map((p) => p.name));
        return { rule, subject, holds, values: templateValues(rule, scope) };
      });
  }

  function templateValues(rule: CompiledRule, scope: ConditionScope): Map<string, unknown> {
    const values = new Map<string, unknown>();
    for (const [name, source] of rule.templateSources) {
      if (source.kind === 'threshold') values.set(name, thresholdValues);
      else if (source.kind === 'table') values.set(name, tableValues);
      else values.set(name, scope.fact(source.use));
    }
    return values;
  }

  return {
    version: parts.version,
    loadedAt: parts.loadedAt,
    counts: parts.counts,
    requirements: (hook) => parts.requirements.get(hook) ?? [],
    async evaluate(input) {
      const hasInotrope = input.data.medicationOrders.some((o) => isInotrope(o, knowledge));
      const rules = (byHook.get(input.data.hook) ?? []).filter((r) => hasInotrope || !r.requiresInotrope);
      if (rules.length === 0) return { cards: [], fired: [] };
      const subjects = input.data.medicationOrders.filter(
        (o) => isInotrope(o, knowledge) && (input.data.hook === 'patient-view' ? o.origin === 'active' : o.origin === 'draft' && o.selected),
      );
      const patientRules = rules.filter((r) => r.scope === 'patient');
      const orderRules = rules.filter((r) => r.scope === 'order');
      const shared = new Map<string, unknown>();
      const lookup = operatorsAt(knowledge, input.now);
      const operator = (name: string) => lookup(name)!; // the compiler refused unknown operators
      const base: FactContext = { data: input.data, now: input.now, knowledge };
      const runs = [
        ...run(patientRules, scopeFor(base, shared, operator), undefined),
        ...subjects.flatMap((s) => run(orderRules, scopeFor({ ...base, subject: s }, shared, operator), s)),
      ];
      const cards: Card[] = [];
      const fired: Fired[] = [];
      for (const { rule, subject, values, holds } of runs) {
        fired.push({ id: rule.id, version: rule.version, status: rule.status, category: rule.category, indicator: indicatorOf(rule, holds) });
        if (rule.status === 'active') {
          cards.push(buildCard({ rule, values, subject, holds, settings: knowledge.settings, rulesetVersion: parts.version, uuid: input.uuid }));
        }
      }
      return { cards: orderCards(cards), fired };
    },
  };
}
