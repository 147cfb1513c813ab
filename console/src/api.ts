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

// The service's answers (openapi.yaml), as the service itself declares them: one definition.
export type {
  CodeMatch,
  CodeSearch,
  ConditionExplanation,
  ConditionNode,
  EvaluateAnswer,
  ExampleList,
  LoadError,
  RuleAnalytics,
  RuleDocument,
  RuleExplanation,
  RulesetDocument,
  ScenarioRun,
  Timeseries,
  TimeseriesPoint,
} from '../../src/shared/operator-api';
export type { Card } from '../../src/shared/card';
