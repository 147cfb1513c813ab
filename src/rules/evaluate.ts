import { Engine, type Almanac } from 'json-rules-engine';
import type { Hook } from '../cds/request-schema.js';
import type { Card } from '../cds/response-schema.js';
import type { DataRequirement, MedicationOrder } from '../patient-data/patient-data.js';
import type { FactContext, Knowledge } from '../facts/types.js';
import { isInotrope } from '../facts/medications.js';
import { buildCard, indicatorOf, orderCards } from '../cards/build-card.js';
import { formatQuantity } from '../facts/units.js';
import type { CompiledRule, FactRegistry, FactUse } from './compile.js';
import { customOperators } from './operators.js';
import { pathResolver } from './path-resolver.js';
import type { EvaluationInput, EvaluationResult, Ruleset } from './ruleset.js';

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
 * The ruleset as the service runs it. json-rules-engine keeps run state on the Engine, so a shared
 * Engine loses results under concurrent calls (shared/style.md §1B): every run gets a new Engine
 * built from the precompiled rule properties, which costs well under a millisecond.
 */
export function createRuleset(parts: RulesetParts): Ruleset {
  const byHook = new Map<Hook, CompiledRule[]>();
  for (const rule of parts.rules) {
    for (const hook of rule.hooks) byHook.set(hook, [...(byHook.get(hook) ?? []), rule]);
  }
  const { knowledge, facts } = parts;
  const thresholdValues = Object.fromEntries(
    [...knowledge.thresholds.values()].map((t) => [t.name, { ...t, display: formatQuantity(t.value, t.unit) }]),
  );
  const tableValues = Object.fromEntries([...knowledge.tables.values()].map((t) => [t.name, { ...t, display: t.name }]));

  async function run(rules: readonly CompiledRule[], input: EvaluationInput, subject: MedicationOrder | undefined, memo: Map<string, unknown>) {
    const engine = new Engine(
      rules.flatMap((r) => [r.properties, ...r.variants]),
      { allowUndefinedFacts: false, pathResolver },
    );
    for (const op of customOperators(knowledge, input.now)) engine.addOperator(op);
    const ctx: FactContext = { data: input.data, now: input.now, knowledge, ...(subject && { subject }) };
    const runMemo = new Map<string, unknown>();
    for (const id of new Set(rules.flatMap((r) => r.uses.map((u) => u.fact)))) {
      const def = facts[id]!;
      // Facts that do not depend on the subject order are shared by every run of one evaluation. Values
      // are memoised here, so json-rules-engine's own fact cache (it hashes every params object, a
      // visible cost in the CPU profile) is off.
      const cache = def.scope === 'order' ? runMemo : memo;
      engine.addFact(
        id,
        (params) => {
          const key = `${id} ${JSON.stringify(params)}`;
          if (!cache.has(key)) cache.set(key, def.compute(params, ctx));
          return cache.get(key);
        },
        { cache: false },
      );
    }
    const { results, almanac } = await engine.run();
    const byId = new Map(rules.map((r) => [r.id, r]));
    // Variants (`<id>#escalate`, `<id>#suggestion-<i>`) only say which optional parts of a fired rule's card hold.
    const holds = new Set(results.filter((r) => !byId.has(r.name)).map((r) => r.name));
    const fired = results.filter((r) => byId.has(r.name)).map((r) => byId.get(r.name)!);
    return Promise.all(fired.map(async (rule) => ({ rule, subject, holds, values: await templateValues(rule, almanac) })));
  }

  async function templateValues(rule: CompiledRule, almanac: Almanac): Promise<Map<string, unknown>> {
    const values = new Map<string, unknown>();
    for (const [name, source] of rule.templateSources) {
      if (source.kind === 'threshold') values.set(name, thresholdValues);
      else if (source.kind === 'table') values.set(name, tableValues);
      else values.set(name, await factValue(almanac, source.use));
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
      const memo = new Map<string, unknown>();
      const runs = await Promise.all([
        ...(patientRules.length > 0 ? [run(patientRules, input, undefined, memo)] : []),
        ...(orderRules.length > 0 ? subjects.map((s) => run(orderRules, input, s, memo)) : []),
      ]);
      const cards: Card[] = [];
      const fired: Fired[] = [];
      for (const { rule, subject, values, holds } of runs.flat()) {
        fired.push({ id: rule.id, version: rule.version, status: rule.status, category: rule.category, indicator: indicatorOf(rule, holds) });
        if (rule.status === 'active') {
          cards.push(buildCard({ rule, values, subject, holds, settings: knowledge.settings, rulesetVersion: parts.version, uuid: input.uuid }));
        }
      }
      return { cards: orderCards(cards), fired };
    },
  };
}

function factValue(almanac: Almanac, use: FactUse): Promise<unknown> {
  return almanac.factValue(use.fact, use.params as Record<string, unknown>);
}
