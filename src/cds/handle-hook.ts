import type { HookRequest } from './request-schema.js';
import type { HookResponse } from './response-schema.js';
import type { EvaluationResult, Ruleset } from '../rules/ruleset.js';
import type { RuleExplanation } from '../rules/explain.js';
import type { FetchRecord } from '../patient-data/patient-data.js';
import { resolvePatientData, type DataOptions } from '../patient-data/resolve.js';

export interface HookDeps {
  data: DataOptions;
  now: () => Date;
  uuid: () => string;
}

export interface HookOutcome {
  response: HookResponse;
  /** Safe to log: counts and ids only. */
  stats: { cards: number; gaps: number; rulesetVersion: string };
  /** What happened, for metrics: fetches per key and rules fired. */
  fetches: readonly FetchRecord[];
  fired: EvaluationResult['fired'];
}

/**
 * One hook call: obtain the patient's data the ruleset needs (prefetch first, then the EHR's FHIR
 * server), evaluate the rules, and answer with cards. Data that cannot be obtained at all surfaces as
 * a DataUnavailableError (412 at the edge); partial data reaches the rules with its gaps named.
 */
export async function handleHook(request: HookRequest, ruleset: Ruleset, deps: HookDeps): Promise<HookOutcome> {
  const { data, fetches } = await resolvePatientData(request, ruleset.requirements(request.hook), deps.data);
  const { cards, fired } = await ruleset.evaluate({ data, now: deps.now(), uuid: deps.uuid });
  return {
    response: { cards },
    stats: { cards: cards.length, gaps: data.gaps.length, rulesetVersion: ruleset.version },
    fetches,
    fired,
  };
}

/**
 * The same call explained rule by rule, condition by condition (the console's playground and
 * `evaluate --explain`). Not for hook answers: the explanation quotes the patient's values.
 */
export async function explainHook(request: HookRequest, ruleset: Ruleset, deps: HookDeps): Promise<{ cards: HookResponse['cards']; explanation: RuleExplanation[]; fired: EvaluationResult['fired'] }> {
  const { data } = await resolvePatientData(request, ruleset.requirements(request.hook), deps.data);
  const { cards, explanation, fired } = await ruleset.explain({ data, now: deps.now(), uuid: deps.uuid });
  return { cards, explanation, fired };
}
