import type { Card } from '../shared/card.js';
import type { Hook } from '../shared/hooks.js';
import type { DataRequirement, PatientData } from '../shared/patient-data.js';
import type { LoadError } from './load-error.js';
import type { RulesetDocuments } from './inspect.js';
import type { RuleExplanation } from '../shared/operator-api.js';

/**
 * The loaded, validated ruleset as the rest of the service uses it. The rules layer builds it from
 * the files in RULES_DIR; the protocol layer asks it what data it needs and for the cards.
 */
export interface Ruleset {
  /** Content hash of every file the ruleset was built from. */
  readonly version: string;
  readonly loadedAt: string;
  /** Number of rules per status. */
  readonly counts: { readonly active: number; readonly silent: number; readonly retired: number };
  /** The parsed files it was built from, for inspection (the console's ruleset page). */
  readonly documents?: RulesetDocuments;
  /** The data the rules for this hook need, as prefetch keys and templates. */
  requirements(hook: Hook): readonly DataRequirement[];
  /** Evaluates the rules for the hook against the patient's data and returns rendered cards. */
  evaluate(input: EvaluationInput): Promise<EvaluationResult>;
  /** Evaluates as `evaluate` does and explains every rule, condition by condition (operators only: it quotes patient values). */
  explain(input: EvaluationInput): Promise<EvaluationResult & { explanation: RuleExplanation[] }>;
}

export interface EvaluationInput {
  data: PatientData;
  /** Evaluation time; facts compute ages and freshness against it. */
  now: Date;
  /** Makes card and suggestion uuids (injected so tests are deterministic). */
  uuid: () => string;
  /** Rule ids made to throw: only scenario tests set it, to show the card that reports a check that could not run. */
  faults?: ReadonlySet<string>;
  /** The IANA time zone cards show times of day in (DISPLAY_TIME_ZONE); default UTC. */
  timeZone?: string;
}

export interface EvaluationResult {
  /** Cards to return: active rules only, de-duplicated, ordered critical, warning, info. */
  cards: Card[];
  /** Every rule that fired, silent ones included (for metrics and logs). */
  fired: readonly { id: string; version: string; status: 'active' | 'silent'; category: string; indicator: string }[];
  /** Rules that threw on this call (isolated: the others answered, and a data-quality rule says which checks did not run). The error may quote patient data: log its type only. */
  failed?: readonly { id: string; version: string; error: unknown }[];
}

/** Holds the ruleset currently serving; the rules layer swaps it atomically on reload. */
export interface RulesetSource {
  current(): Ruleset;
  /** Readiness detail: the version serving and the last reload error, if the last reload failed. */
  status(): { version: string; loadedAt: string; lastError?: string };
  /** The last reload that was refused, with every error (file and JSON pointer); undefined once one succeeds. */
  refusedReload?(): { at: string; errors: readonly LoadError[] } | undefined;
}
