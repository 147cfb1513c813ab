import type { Auth } from './auth';

/** Thrown for an answer other than 2xx; `status` 401/403 sends the console back to sign-in. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let auth: Auth | undefined;
let onUnauthorised: (() => void) | undefined;

export function useAuth(a: Auth, unauthorised: () => void): void {
  auth = a;
  onUnauthorised = unauthorised;
}

async function call(path: string, init: RequestInit = {}, accept = 'application/json'): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('accept', accept);
  const credential = await auth?.header();
  if (credential) headers.set('authorization', credential);
  // Never a cookie: the credential travels in the header only.
  const res = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  if (res.ok) return res;
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { message?: string };
    if (body.message) message = body.message;
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 401) onUnauthorised?.();
  throw new ApiError(res.status, message);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await call(path)).json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await call(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return (await res.json()) as T;
}

export async function getText(path: string, accept: string): Promise<string> {
  return (await call(path, {}, accept)).text();
}

export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---- Shapes of the service's answers (openapi.yaml) ----

/** One rule and version in `GET /analytics/rules` (issue 17's field names). */
export interface RuleStats {
  id: string;
  version: string;
  category: string;
  shown: number;
  accepted: number;
  overridden: number;
  noFeedback: number;
  overrideRate: number | null;
  overrideReasons: Record<string, number>;
  acceptedSuggestions: Record<string, number>;
  silentFirings?: number;
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
  bucket: 'day' | 'week';
  points: TimeseriesPoint[];
}

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { fact: string; path?: string; operator: string; value?: unknown; params?: Record<string, unknown> };

export interface RuleDoc {
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
  conditions: Condition;
  card: Record<string, unknown> & { indicator?: unknown; summary?: string; detail?: string };
}

export interface ValueSetDoc {
  name: string;
  title: string;
  source: string;
  codeCount: number;
  systems: Record<string, number>;
  usedBy: string[];
}

export interface ThresholdDoc {
  name: string;
  value: number;
  unit?: string;
  maxAge?: string;
  source?: string;
  usedBy: string[];
}

export interface TableDoc {
  name: string;
  source?: string;
  input?: unknown;
  output?: unknown;
  rows: unknown[][];
  usedBy: string[];
}

export interface ScenarioResult {
  file: string;
  name: string;
  hook: string;
  passed: boolean;
  problems: string[];
  fired: string[];
}

export interface LoadErrorDoc {
  file: string;
  pointer: string;
  message: string;
}

export interface RulesetDoc {
  version: string;
  loadedAt: string;
  counts: { active: number; silent: number; retired: number };
  lastReload?: { at: string; errors: LoadErrorDoc[] };
  services: { id: string; hook: string }[];
  overrideReasons: { system: string; code: string; display: string }[];
  rules: RuleDoc[];
  valueSets: ValueSetDoc[];
  thresholds: ThresholdDoc[];
  tables: TableDoc[];
}

export interface ScenarioRun {
  version: string;
  passed: number;
  failed: number;
  results: ScenarioResult[];
  /** Scenario files or charts that could not be read (file and JSON pointer). */
  errors: LoadErrorDoc[];
}

export interface CodeHit {
  system: string;
  code: string;
  display?: string;
  valueSets: { name: string; title: string; rules: string[] }[];
}

export interface Card {
  uuid?: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string; topic?: { code?: string; display?: string } };
  suggestions?: { uuid?: string; label: string; isRecommended?: boolean; actions?: { type: string; description?: string }[] }[];
  selectionBehavior?: string;
  overrideReasons?: { code: string; system?: string; display?: string }[];
  links?: { label: string; url: string; type: string }[];
  extension?: Record<string, unknown>;
}

export interface ConditionExplanation {
  /** 'all' | 'any' | 'not' for groups, absent for a leaf. */
  group?: 'all' | 'any' | 'not';
  children?: ConditionExplanation[];
  label?: string;
  fact?: string;
  path?: string;
  operator?: string;
  /** The value read, as text with its unit; absent when the fact had no value. */
  value?: string;
  /** When the value was observed or recorded. */
  date?: string;
  threshold?: string;
  passed: boolean;
  /** Not evaluated: an earlier condition already decided its group. */
  skipped?: boolean;
}

export interface RuleExplanation {
  rule: string;
  version: string;
  title: string;
  status: string;
  category: string;
  /** The order the rule was evaluated for (order-scoped rules), as a readable label. */
  subject?: string;
  outcome: 'fired' | 'not-fired' | 'not-applicable' | 'error';
  reason?: string;
  indicator?: string;
  conditions?: ConditionExplanation;
  dataQuality?: string[];
}

export interface EvaluateAnswer {
  cards: Card[];
  explanation: RuleExplanation[];
}

export interface ExampleList {
  examples: { id: string; label: string; hook: string }[];
  charts: { id: string; label: string }[];
  hooks: string[];
}
