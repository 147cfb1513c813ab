import type { Hook, OrderSubjects } from '../shared/hooks.js';
import type { Card } from '../shared/card.js';
import type { DataRequirement, MedicationOrder } from '../shared/patient-data.js';
import type { FactContext, Knowledge, ObservationRead } from '../facts/types.js';
import { identifyDrug, isInotrope, referenceOf } from '../facts/medications.js';
import { CallMemo } from '../facts/memo.js';
import { staleInotropeOrders } from '../facts/administrations.js';
import { patientValue, type PatientValue } from '../facts/patient.js';
import { buildCard, indicatorOf, orderCards, reconcileRateLimits } from '../cards/build-card.js';
import { withoutPreparationsForRemovedDrafts } from '../cards/removed-drafts.js';
import { Absent } from '../cards/template.js';
import { formatQuantity } from '../facts/units.js';
import type { CompiledRule, FactRegistry } from './compile.js';
import type { ConditionScope, FactUse } from './conditions.js';
import { operatorsAt } from './operators.js';
import type { EvaluationInput, EvaluationResult, Ruleset } from './ruleset.js';
import { explainConditions, heldConditions, orderLabel } from './explain.js';
import type { RuleExplanation } from '../shared/operator-api.js';
import type { RulesetDocuments } from './inspect.js';

export interface RulesetParts {
  version: string;
  loadedAt: string;
  counts: Ruleset['counts'];
  documents?: RulesetDocuments;
  knowledge: Knowledge;
  facts: FactRegistry;
  rules: readonly CompiledRule[];
  requirements: ReadonlyMap<Hook, readonly DataRequirement[]>;
  /** What each hook's rules read of observations (default: nothing watched). */
  observed?: ReadonlyMap<Hook, readonly ObservationRead[]>;
}

type Fired = EvaluationResult['fired'][number];
type Failure = { rule: CompiledRule; error: unknown };

/** Rules that report checks that could not run: evaluated after the others, with their failures. */
const readsFailures = (rule: CompiledRule) => rule.uses.some((u) => u.fact === 'failedChecks');

/** The orders an order-scoped rule checks, as an explanation names them. */
const SUBJECT_TEXT: Record<OrderSubjects, string> = {
  active: 'active inotrope order',
  'selected-drafts': 'selected draft inotrope order',
  'all-drafts': 'draft inotrope order',
};

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
      absent(use: FactUse) {
        return facts[use.fact]!.absent?.(use.params, ctx);
      },
    };
  }

  /**
   * The rules that hold, each isolated: one that throws (the rule or a fact it reads) is recorded in
   * `failures` and the others still run. `faults`: rule ids made to throw (scenario tests of the rule that reports it).
   */
  function run(rules: readonly CompiledRule[], scope: ConditionScope, subject: MedicationOrder | undefined, failures: Failure[], faults?: ReadonlySet<string>) {
    const runs: { rule: CompiledRule; subject: MedicationOrder | undefined; holds: Set<string>; values: Map<string, unknown> }[] = [];
    for (const rule of rules) {
      try {
        if (faults?.has(rule.id)) throw new Error(`fault injected into ${rule.id}`);
        if (!rule.holds(scope)) continue;
        const holds = new Set(rule.parts.filter((p) => p.holds(scope)).map((p) => p.name));
        runs.push({ rule, subject, holds, values: templateValues(rule, scope) });
      } catch (error) {
        failures.push({ rule, error });
      }
    }
    return runs;
  }

  function templateValues(rule: CompiledRule, scope: ConditionScope): Map<string, unknown> {
    const values = new Map<string, unknown>();
    for (const [name, source] of rule.templateSources) {
      if (source.kind === 'threshold') values.set(name, thresholdValues);
      else if (source.kind === 'table') values.set(name, tableValues);
      else {
        const value = scope.fact(source.use);
        const absent = value === null || value === undefined ? scope.absent?.(source.use) : undefined;
        values.set(name, absent === undefined ? value : new Absent(absent));
      }
    }
    return values;
  }

  /** What one evaluation needs: the hook's rules, the orders checked, and facts shared across them. */
  function prepare(input: EvaluationInput) {
    // A stale active order is no running infusion: every fact and rule sees the record without it,
    // and only the staleOrders fact (the data-quality rule that says so) sees it.
    // (For a deceased patient no order is current: only the rules for that case run, on the whole record.)
    // One memo per call, on its FactContext: dropped with the call (src/facts/memo.ts).
    const memo = new CallMemo();
    const who = patientValue({ data: input.data, now: input.now, knowledge });
    const staleOrders = who.deceased ? [] : staleInotropeOrders(input.data, input.now, knowledge, parts.requirements.get(input.data.hook) ?? [], memo);
    const data = staleOrders.length === 0 ? input.data : { ...input.data, medicationOrders: input.data.medicationOrders.filter((o) => !staleOrders.includes(o)) };
    const hasInotrope = data.medicationOrders.some((o) => isInotrope(o, knowledge, memo));
    const forInotrope = (byHook.get(data.hook) ?? []).filter((r) => hasInotrope || !r.requiresInotrope);
    const rules = forInotrope.filter((r) => isFor(r.population, who));
    const subjects = data.medicationOrders.filter(
      (o) => isInotrope(o, knowledge, memo) && (data.subjects === 'active' ? o.origin === 'active' : o.origin === 'draft' && o.selected),
    );
    // At order entry, rules with `alsoRunning` re-check the running infusions too (renal function may have
    // fallen since they started), except a drug the call drafts again: that draft is the new dose, checked itself.
    const drafted = new Set(data.medicationOrders.filter((o) => o.origin === 'draft').map((o) => identifyDrug(o, knowledge, memo).valueSet));
    const running =
      data.subjects === 'active'
        ? []
        : data.medicationOrders.filter((o) => o.origin === 'active' && isInotrope(o, knowledge, memo) && !drafted.has(identifyDrug(o, knowledge, memo).valueSet));
    const lookup = operatorsAt(knowledge, input.now);
    return {
      rules,
      /** Rules left out only for whom they are for (a child, a deceased patient). */
      notFor: forInotrope.filter((r) => !rules.includes(r)),
      who,
      subjects,
      running,
      patientRules: rules.filter((r) => r.scope === 'patient'),
      orderRules: rules.filter((r) => r.scope === 'order'),
      runningRules: rules.filter((r) => r.scope === 'order' && r.alsoRunning),
      shared: new Map<string, unknown>(),
      operator: (name: string) => lookup(name)!, // the compiler refused unknown operators
      base: { data, now: input.now, knowledge, staleOrders, memo, observed: parts.observed?.get(data.hook) ?? [], ...(input.timeZone !== undefined && { timeZone: input.timeZone }) } satisfies FactContext,
    };
  }

  const rawRules = new Map((parts.documents?.rules ?? []).flatMap((f) => f.content.rules.map((r) => [r.id, r] as const)));
  const about = (rule: CompiledRule) => ({ rule: rule.id, version: rule.version, title: rule.title, status: rule.status, category: rule.category });

  return {
    version: parts.version,
    loadedAt: parts.loadedAt,
    counts: parts.counts,
    ...(parts.documents && { documents: parts.documents }),
    requirements: (hook) => parts.requirements.get(hook) ?? [],
    async evaluate(input) {
      const p = prepare(input);
      if (p.rules.length === 0) return { cards: [], fired: [] };
      const cards: Card[] = [];
      /** Cards that prepare the start of the drafts they are about (`card.preparesDraft`). */
      const preparing = new Set<Card>();
      const fired: Fired[] = [];
      const failures: Failure[] = [];
      const pass = (base: FactContext, only: (rule: CompiledRule) => boolean) => {
        const runs = [
          ...run(p.patientRules.filter(only), scopeFor(base, p.shared, p.operator), undefined, failures, input.faults),
          ...p.subjects.flatMap((s) => run(p.orderRules.filter(only), scopeFor({ ...base, subject: s }, p.shared, p.operator), s, failures, input.faults)),
          ...p.running.flatMap((s) => run(p.runningRules.filter(only), scopeFor({ ...base, subject: s }, p.shared, p.operator), s, failures, input.faults)),
        ];
        for (const { rule, subject, values, holds } of runs) {
          try {
            const indicator = indicatorOf(rule, holds);
            if (rule.status === 'active') {
              const card = buildCard({ rule, values, subject, holds, settings: knowledge.settings, rulesetVersion: parts.version, uuid: input.uuid });
              cards.push(card);
              if (rule.card.preparesDraft) preparing.add(card);
            }
            fired.push({ id: rule.id, version: rule.version, status: rule.status, category: rule.category, indicator });
          } catch (error) {
            failures.push({ rule, error });
          }
        }
      };
      pass(p.base, (rule) => !readsFailures(rule));
      const failedChecks = [...new Map(failures.map(({ rule }) => [rule.id, { id: rule.id, title: rule.title }])).values()];
      pass({ ...p.base, failedChecks }, readsFailures);
      const failed = failures.map(({ rule, error }) => ({ id: rule.id, version: rule.version, error }));
      const inotropeOrders = p.base.data.medicationOrders
        .filter((o) => isInotrope(o, knowledge, p.base.memo))
        .map((o) => referenceOf(o) ?? '');
      const shown = withoutPreparationsForRemovedDrafts(reconcileRateLimits(cards), preparing, inotropeOrders);
      return { cards: orderCards(shown), fired, ...(failed.length > 0 && { failed }) };
    },
    async explain(input) {
      const result = await this.evaluate(input);
      const p = prepare(input);
      const hook = input.data.hook;
      const explanation: RuleExplanation[] = [];
      const gaps = input.data.gaps.map((g) => g.message);
      const explainRun = (rule: CompiledRule, scope: ConditionScope, subject: MedicationOrder | undefined) => {
        const conditions = explainConditions(rule, rawRules.get(rule.id), scope, knowledge);
        const fired = conditions.passed;
        const holds = fired ? new Set(rule.parts.filter((x) => x.holds(scope)).map((x) => x.name)) : new Set<string>();
        const dataQuality = fired && rule.category === 'data-quality' ? [...heldConditions(conditions), ...(rule.uses.some((u) => u.fact === 'dataGaps') ? gaps : [])] : undefined;
        explanation.push({
          ...about(rule),
          ...(subject && { subject: orderLabel(subject) }),
          outcome: fired ? 'fired' : 'not-fired',
          ...(fired && { indicator: indicatorOf(rule, holds) }),
          reason: fired ? (rule.status === 'silent' ? 'Its conditions held; it is silent, so no card was shown.' : 'Its conditions held.') : 'Its conditions did not hold: the ones marked “decides” settled it.',
          conditions,
          ...(dataQuality && { dataQuality }),
        });
      };
      for (const rule of parts.rules) {
        if (!rule.hooks.includes(hook)) {
          explanation.push({ ...about(rule), outcome: 'not-applicable', reason: `Runs on ${rule.hooks.join(', ')}, not ${hook}.` });
        } else if (p.notFor.includes(rule)) {
          const why = p.who.deceased ? 'the record marks the patient deceased' : 'the patient is younger than the adult age';
          explanation.push({ ...about(rule), outcome: 'not-applicable', reason: `Written for ${rule.population === 'deceased' ? 'deceased patients' : rule.population === 'adults' ? 'living adults' : 'living patients'}; ${why}.` });
        } else if (!p.rules.includes(rule)) {
          explanation.push({ ...about(rule), outcome: 'not-applicable', reason: 'Runs only when the request has an IV inotrope order, and this one has none.' });
        } else if (rule.scope === 'patient') {
          explainRun(rule, scopeFor(p.base, p.shared, p.operator), undefined);
        } else {
          const checked = [...p.subjects, ...(rule.alsoRunning ? p.running : [])];
          if (checked.length === 0) {
            const which = SUBJECT_TEXT[input.data.subjects] + (rule.alsoRunning && input.data.subjects !== 'active' ? ' and no running one' : '');
            explanation.push({ ...about(rule), outcome: 'not-applicable', reason: `Checks each order being written; this request has no ${which}.` });
          }
          for (const s of checked) explainRun(rule, scopeFor({ ...p.base, subject: s }, p.shared, p.operator), s);
        }
      }
      return { ...result, explanation };
    },
  };
}

/**
 * Whom a rule is for (docs/rule-format.md "population"): a deceased patient gets only the rules written
 * for that case; a child (younger than settings.adultAge) does not get the rules written for adults.
 * An unknown age counts as adult: the rule runs rather than stay silent.
 */
function isFor(population: CompiledRule['population'], who: PatientValue): boolean {
  if (who.deceased) return population === 'deceased';
  return population === 'all-ages' || (population === 'adults' && who.adult !== false);
}
