import type { ScenarioCase } from './run-scenarios.js';

/** How the scenarios exercise one rule: how many make it fire and how many keep it quiet. */
export interface RuleCoverage {
  id: string;
  status: 'active' | 'silent';
  fires: number;
  quiet: number;
}

/**
 * Per rule, the scenarios that expect it to fire (`expect.fires`) and those that expect it quiet
 * (`expect.absent`, or `exactly` without it): the runner checks every expectation, so once the scenarios
 * pass this is what they prove. Retired rules are not run and not counted.
 */
export function scenarioCoverage(rules: readonly { id: string; status: string }[], cases: readonly ScenarioCase[]): RuleCoverage[] {
  const firing = cases.map((c) => new Set((c.scenario.expect.fires ?? []).map((f) => (typeof f === 'string' ? f : f.rule))));
  return rules.flatMap((rule) => {
    if (rule.status !== 'active' && rule.status !== 'silent') return [];
    let fires = 0;
    let quiet = 0;
    cases.forEach((c, i) => {
      if (firing[i]!.has(rule.id)) fires += 1;
      else if (c.scenario.expect.absent?.includes(rule.id) || c.scenario.expect.exactly) quiet += 1;
    });
    return [{ id: rule.id, status: rule.status, fires, quiet }];
  });
}

/** What a rule's coverage lacks: an active rule no scenario makes fire is an error; the rest are warnings. */
export function coverageProblems(coverage: readonly RuleCoverage[]): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const c of coverage) {
    if (c.fires === 0) {
      (c.status === 'active' ? errors : warnings).push(`${c.id}: no scenario makes this ${c.status} rule fire: add one whose "expect.fires" names it`);
    }
    if (c.quiet === 0) warnings.push(`${c.id}: no scenario keeps it quiet: add one with it in "expect.absent" (the case it must not fire for)`);
  }
  return { errors, warnings };
}
