import type { HookResponse } from './response-schema.js';
import { parseHookRequest, type HookRequest } from './request-schema.js';
import type { HookModule } from './hooks/hook.js';
import type { EvaluationInput, EvaluationResult, Ruleset } from '../rules/ruleset.js';
import type { RuleExplanation } from '../shared/operator-api.js';
import type { DataRequirement, FetchRecord } from '../shared/patient-data.js';
import { invalidRequest, ServiceError } from '../shared/errors.js';
import { jsonPointer } from '../shared/syntax.js';
import { mergeRequirements } from '../facts/requirements.js';
import { isAllowed } from '../patient-data/allowlist.js';
import { resolvePatientData, type DataOptions } from '../patient-data/resolve.js';
import type { DataRequest } from '../patient-data/data-request.js';

export interface HookDeps {
  data: DataOptions;
  now: () => Date;
  uuid: () => string;
  /** Scenario tests only (EvaluationInput.faults). */
  faults?: ReadonlySet<string>;
  /** DISPLAY_TIME_ZONE: the IANA time zone cards show times of day in. */
  timeZone?: string;
}

export interface HookOutcome {
  response: HookResponse;
  /** Safe to log: counts and ids only. */
  stats: { cards: number; gaps: number; rulesetVersion: string };
  /** What happened, for metrics: fetches per key and rules fired. */
  fetches: readonly FetchRecord[];
  fired: EvaluationResult['fired'];
  /** Rules that threw (isolated; the answer carries a data-quality card instead of their cards). */
  failed: NonNullable<EvaluationResult['failed']>;
}

/**
 * A hook call's body checked against the hook (envelope, then the hook's context). An authenticated
 * client may name only its own FHIR servers (`fhirServers`): refused before anything is fetched, so
 * the EHR's access token is never sent elsewhere.
 */
export function validateCall(module: HookModule, body: unknown, fhirServers?: readonly string[]): HookRequest {
  const parsed = parseHookRequest(body, module);
  if (!parsed.ok) {
    const first = parsed.issues[0]!;
    const pointer = jsonPointer(first.path);
    throw invalidRequest(
      `Invalid request: ${pointer || '/'} ${first.message}`,
      pointer,
      parsed.issues.slice(0, 20).map((i) => `${jsonPointer(i.path) || '/'}: ${i.message}`),
    );
  }
  const { request } = parsed;
  if (fhirServers && request.fhirServer !== undefined && !isAllowed(request.fhirServer, fhirServers)) {
    throw new ServiceError('forbidden', 'fhirServer is not one of the FHIR servers configured for this CDS client', { pointer: '/fhirServer' });
  }
  return request;
}

/**
 * One hook call: obtain the patient's data the ruleset needs (prefetch first, then the EHR's FHIR
 * server), evaluate the rules, and answer with cards. Data that cannot be obtained at all surfaces as
 * a `precondition-failed` error (412 at the edge); partial data reaches the rules with its gaps named.
 */
export async function runHook(module: HookModule, request: HookRequest, ruleset: Ruleset, deps: HookDeps): Promise<HookOutcome> {
  const { data, fetches } = await resolvePatientData(dataRequest(module, request), hookRequirements(module, ruleset), deps.data);
  const { cards, fired, failed = [] } = await ruleset.evaluate(evaluationInput(data, deps));
  return {
    response: { cards },
    stats: { cards: cards.length, gaps: data.gaps.length, rulesetVersion: ruleset.version },
    fetches,
    fired,
    failed,
  };
}

/**
 * The same call explained rule by rule, condition by condition (the console's playground and
 * `evaluate --explain`). Not for hook answers: the explanation quotes the patient's values.
 */
export async function explainHook(module: HookModule, request: HookRequest, ruleset: Ruleset, deps: HookDeps): Promise<{ cards: HookResponse['cards']; explanation: RuleExplanation[]; fired: EvaluationResult['fired'] }> {
  const { data } = await resolvePatientData(dataRequest(module, request), hookRequirements(module, ruleset), deps.data);
  const { cards, explanation, fired } = await ruleset.explain(evaluationInput(data, deps));
  return { cards, explanation, fired };
}

/** What the rules evaluate, the same for an answer and its explanation (injected faults included). */
function evaluationInput(data: EvaluationInput['data'], deps: HookDeps): EvaluationInput {
  return { data, now: deps.now(), uuid: deps.uuid, ...(deps.faults && { faults: deps.faults }), ...(deps.timeZone !== undefined && { timeZone: deps.timeZone }) };
}

/** The prefetch a hook needs: what its rules read, and what the hook itself adds. */
export function hookRequirements(module: HookModule, ruleset: Ruleset): readonly DataRequirement[] {
  const rules = ruleset.requirements(module.hook);
  return module.requirements.length === 0 ? rules : mergeRequirements(rules, module.requirements);
}

/** What the data layer needs from a validated call. */
export function dataRequest(module: HookModule, request: HookRequest): DataRequest {
  const { context } = request;
  return {
    hook: module.hook,
    moment: module.moment,
    subjects: module.subjects,
    context,
    // Draft orders count only where the hook evaluates them (its context is loose: a stray field is not data).
    ...(module.subjects !== 'active' && context.draftOrders && { draftOrders: (context.draftOrders.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])) }),
    ...(module.subjects === 'selected-drafts' && context.selections && { selections: context.selections }),
    ...(request.prefetch !== undefined && { prefetch: request.prefetch }),
    ...(request.fhirServer !== undefined && { fhirServer: request.fhirServer }),
    ...(request.fhirAuthorization && { accessToken: request.fhirAuthorization.access_token }),
  };
}
