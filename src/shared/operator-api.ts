import type { Card } from './card.js';
import type { Hook } from './hooks.js';

/**
 * What the operator API answers (`/analytics/*` and `/admin/*`, described in openapi.yaml), as types:
 * one definition that the service's stores, rules and routes are declared against and that the
 * console (console/src) imports as types, so the two cannot drift apart.
 */

// ---- Analytics (GET /analytics/rules, GET /analytics/rules/{id}/timeseries) ----

export type Bucket = 'day' | 'week';

export interface RuleAnalytics {
  id: string;
  version: string;
  category: string;
  shown: number;
  accepted: number;
  overridden: number;
  noFeedback: number;
  /** overridden / (accepted + overridden); null with no feedback. */
  overrideRate: number | null;
  /** `system|code` (or `other`, `none`) → count. */
  overrideReasons: Record<string, number>;
  /** Suggestion label → times accepted. */
  acceptedSuggestions: Record<string, number>;
  silentFirings: number;
}

export interface TimeseriesPoint {
  start: string;
  shown: number;
  accepted: number;
  overridden: number;
  silentFirings: number;
}

export interface Timeseries {
  id: string;
  bucket: Bucket;
  points: TimeseriesPoint[];
}

// ---- The ruleset (GET /admin/ruleset, /admin/codes, /admin/ruleset/scenarios) ----

/** A mistake in a rule file: the file (relative to the rules folder), an RFC 6901 pointer into it (`""` for the whole file) and what is wrong. */
export interface LoadError {
  file: string;
  pointer: string;
  message: string;
}

/** One node of a json-rules-engine condition tree, as rule files write it. */
export interface ConditionNode {
  all?: ConditionNode[];
  any?: ConditionNode[];
  not?: ConditionNode;
  fact?: string;
  params?: Record<string, unknown>;
  path?: string;
  operator?: string;
  value?: unknown;
}

/** A rule as its file writes it (docs/rule-format.md), for reading; the rules layer's schema is the full definition. */
export interface RuleDocument {
  file: string;
  id: string;
  version: string;
  title: string;
  description?: string;
  category: string;
  status: 'active' | 'silent' | 'retired';
  hooks: string[];
  scope?: string;
  priority?: number;
  references?: { label: string; url?: string }[];
  facts?: Record<string, { fact: string; params?: Record<string, unknown> }>;
  conditions: ConditionNode;
  card: { indicator?: unknown; summary?: string; detail?: string; [attribute: string]: unknown };
}

export interface RulesetDocument {
  version: string;
  loadedAt: string;
  counts: { active: number; silent: number; retired: number };
  /** The last reload that was refused, while the previous version keeps serving. */
  lastReload?: { at: string; errors: readonly LoadError[] };
  services: { id: string; hook: Hook }[];
  overrideReasons: { system: string; code: string; display: string }[];
  rules: RuleDocument[];
  valueSets: { name: string; title: string; source: string; codeCount: number; systems: Record<string, number>; usedBy: string[] }[];
  thresholds: { name: string; value: number; unit: string; maxAge?: string; source?: string; usedBy: string[] }[];
  tables: { name: string; source?: string; input: unknown; output: unknown; method: string; rows: unknown[][]; usedBy: string[] }[];
}

export interface CodeMatch {
  system: string;
  code: string;
  display?: string;
  valueSets: { name: string; title: string; rules: string[] }[];
}

export interface CodeSearch {
  codes: CodeMatch[];
  truncated: boolean;
}

/** One scenario test of the loaded ruleset and its result. */
export interface ScenarioSummary {
  file: string;
  name: string;
  hook: Hook;
  passed: boolean;
  problems: string[];
  /** Ids of the rules that fired. */
  fired: string[];
}

export interface ScenarioRun {
  version: string;
  passed: number;
  failed: number;
  results: ScenarioSummary[];
  /** Scenario files or charts that could not be read. */
  errors: LoadError[];
}

// ---- The playground (GET /admin/examples, POST /admin/evaluate) ----

export interface ExampleList {
  examples: { id: string; label: string; hook: Hook }[];
  charts: { id: string; label: string }[];
  hooks: readonly Hook[];
}

export interface ConditionExplanation {
  /** Set for a group; a comparison has `label` instead. */
  group?: 'all' | 'any' | 'not';
  children?: ConditionExplanation[];
  /** The fact as the rule names it (its alias) and the path read, e.g. `sbp → value`. */
  label?: string;
  fact?: string;
  operator?: string;
  /** What the fact gave, as text with its unit; absent when it had no value. */
  value?: string;
  /** When that value was observed or recorded. */
  date?: string;
  /** What it was compared with: a named threshold with its value and unit, or the literal value. */
  threshold?: string;
  passed: boolean;
  /** Not needed for the answer: an earlier condition of its group had already decided it. */
  skipped?: boolean;
  /** The fact could not be computed (the rule engine treats that as not holding). */
  error?: string;
  /**
   * A comparison that settled the rule's outcome: the one that failed an ALL or passed an ANY (the rest
   * were not needed), or, when every one was needed (a passed ALL, a failed ANY), each of them.
   */
  decides?: boolean;
}

export interface RuleExplanation {
  rule: string;
  version: string;
  title: string;
  status: 'active' | 'silent';
  category: string;
  /** The order an order-scoped rule was evaluated for. */
  subject?: string;
  outcome: 'fired' | 'not-fired' | 'not-applicable' | 'error';
  /** Why the rule was not evaluated, or how it was decided, in one sentence. */
  reason?: string;
  indicator?: string;
  conditions?: ConditionExplanation;
  /** For a data-quality rule that fired: what could not be checked, and why. */
  dataQuality?: string[];
}

export interface EvaluateAnswer {
  cards: Card[];
  explanation: RuleExplanation[];
}
