import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { explainHook, hookRequirements, runHook, validateCall } from '../cds/handle-hook.js';
import type { RuleExplanation } from '../shared/operator-api.js';
import { hookModule } from '../cds/hooks/registry.js';
import { fhirLimits, testConfig } from '../config.js';
import { ServiceError, statusOf } from '../shared/errors.js';
import { zodErrors, type LoadError } from '../rules/load-error.js';
import { parseJson } from '../rules/load.js';
import { ruleOf, type Card } from '../shared/card.js';
import type { EvaluationResult, Ruleset } from '../rules/ruleset.js';
import { applyAdditions, buildRequest, requestContext } from './build-request.js';
import { fillTemplate, tokenValues } from '../patient-data/tokens.js';
import { serveChart } from './chart-server.js';
import { chartSchema, scenariosFileSchema, type Chart, type Scenario } from '../rules/scenarios/scenario-schema.js';

/** Scenario files give no `now` by default: charts are written around this moment. */
export const DEFAULT_NOW = '2026-11-21T12:00:00Z';

export interface ScenarioCase {
  /** Path relative to the rules folder, e.g. `tests/electrolytes.json`. */
  file: string;
  index: number;
  scenario: Scenario;
  chart: Chart;
  now: Date;
  /** DISPLAY_TIME_ZONE for the call: the scenario's, else the file's, else UTC. */
  timeZone: string;
}

/** One rule that fired as the clinician (or, for silent rules, the log) sees it. */
export interface Firing {
  rule: string;
  indicator: string;
  summary: string;
  /** The card's detail (empty for a silent rule). */
  detail: string;
  /** The labels of the card's suggestions (none for a silent rule). */
  suggestions: string[];
}

export interface ScenarioResult {
  status: number;
  /** The cards returned (empty unless the status is 200). */
  cards: Card[];
  firings: Firing[];
  problems: string[];
}

/** Reads every scenario file and chart under `<dir>/tests`, reporting every mistake. */
export async function readScenarios(dir: string): Promise<{ cases: ScenarioCase[]; errors: LoadError[] }> {
  const errors: LoadError[] = [];
  const cases: ScenarioCase[] = [];
  const charts = new Map<string, Chart | null>();
  const readJson = async (file: string): Promise<unknown> => {
    let text: string;
    try {
      text = await readFile(path.join(dir, file), 'utf8');
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      errors.push({ file, pointer: '', message: missing ? 'does not exist' : `cannot be read: ${(err as Error).message}` });
      return undefined;
    }
    return parseJson(file, text, errors);
  };
  const chart = async (name: string): Promise<Chart | null> => {
    if (!charts.has(name)) {
      const file = `tests/patients/${name}.json`;
      const json = await readJson(file);
      const parsed = json === undefined ? undefined : chartSchema.safeParse(json);
      if (parsed && !parsed.success) errors.push(...zodErrors(file, parsed.error));
      charts.set(name, parsed?.success ? parsed.data : null);
    }
    return charts.get(name)!;
  };

  let names: string[] = [];
  try {
    names = (await readdir(path.join(dir, 'tests'))).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const name of names) {
    const file = `tests/${name}`;
    const json = await readJson(file);
    if (json === undefined) continue;
    const parsed = scenariosFileSchema.safeParse(json);
    if (!parsed.success) {
      errors.push(...zodErrors(file, parsed.error));
      continue;
    }
    for (const [index, scenario] of parsed.data.scenarios.entries()) {
      const patient = await chart(scenario.patient);
      if (patient === null) {
        errors.push({ file, pointer: `/scenarios/${index}/patient`, message: `the chart tests/patients/${scenario.patient}.json is missing or invalid` });
        continue;
      }
      cases.push({
        file,
        index,
        scenario,
        chart: patient,
        now: new Date(scenario.now ?? parsed.data.now ?? DEFAULT_NOW),
        timeZone: scenario.displayTimeZone ?? parsed.data.displayTimeZone ?? 'UTC',
      });
    }
  }
  return { cases, errors };
}

/**
 * `prefetch`: the EHR sends every prefetch key, answered from the chart. `fetch`: it sends none, and
 * the service reads the chart from a loopback FHIR server instead. Both must give the same cards.
 */
export type ScenarioMode = 'prefetch' | 'fetch';

/**
 * A scenario that gives prefetch values as is runs in prefetch mode only. One that leaves keys out
 * (`remove`) also runs in fetch mode, where the FHIR server fails for those keys' searches: either
 * way the data cannot be obtained, and the cards must be the same.
 */
export function runsInFetchMode(scenario: Scenario): boolean {
  return scenario.prefetch === undefined;
}

/** Runs one scenario through the service's own pipeline (request parsing, data layer, rules, cards). */
export async function runScenario(ruleset: Ruleset, c: ScenarioCase, mode: ScenarioMode = 'prefetch'): Promise<ScenarioResult> {
  const requirements = hookRequirements(hookModule(c.scenario.hook), ruleset);
  if (mode === 'prefetch') return run(ruleset, c, buildRequest(c.chart, c.scenario, requirements, c.now), []);
  const { resources, drafts } = applyAdditions(c.chart, c.scenario, c.now);
  const tokens = tokenValues(requestContext(c.chart, c.scenario, resources, drafts));
  const failing = requirements.filter((r) => c.scenario.remove?.includes(r.key)).flatMap((r) => fillTemplate(r.template, tokens) ?? []);
  const server = await serveChart(resources, failing);
  try {
    const { prefetch: _prefetch, ...body } = buildRequest(c.chart, c.scenario, [], c.now);
    return await run(ruleset, c, { ...body, fhirServer: server.url }, [server.url]);
  } finally {
    await server.close();
  }
}

/** What a scenario's call runs with: its own clock, fixed ids, and (fetch mode) the loopback server. */
function scenarioDeps(c: ScenarioCase, allowlist: string[]) {
  let n = 0;
  return {
    data: {
      fhirServerAllowlist: allowlist,
      // Fetch mode reads a loopback server: the production budget (400 ms) would make a scenario's
      // cards depend on the machine's load, not on the rules.
      ...fhirLimits(testConfig(allowlist.length > 0 ? { FHIR_BUDGET_MS: 20_000, FHIR_REQUEST_TIMEOUT_MS: 10_000 } : {})),
    },
    now: () => c.now,
    timeZone: c.timeZone,
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    ...(c.scenario.failing && { faults: new Set(c.scenario.failing) }),
  };
}

async function run(ruleset: Ruleset, c: ScenarioCase, body: Record<string, unknown>, allowlist: string[]): Promise<ScenarioResult> {
  const { scenario } = c;
  const hook = hookModule(scenario.hook);
  let status = 200;
  let firings: Firing[] = [];
  let cards: Card[] = [];
  try {
    const outcome = await runHook(hook, validateCall(hook, body), ruleset, scenarioDeps(c, allowlist));
    cards = outcome.response.cards;
    firings = toFirings(cards, outcome.fired);
  } catch (err) {
    // What the service would answer: the status the edge maps the error to (400 invalid, 412 no data).
    if (!(err instanceof ServiceError)) throw err;
    status = statusOf(err.code);
  }
  return { status, cards, firings, problems: compare(scenario.expect, status, firings) };
}

function toFirings(cards: EvaluationResult['cards'], fired: EvaluationResult['fired']): Firing[] {
  const fromCards = cards.map((card) => ({
    rule: ruleOf(card)!.id,
    indicator: card.indicator,
    summary: card.summary,
    detail: card.detail ?? '',
    suggestions: (card.suggestions ?? []).map((s) => s.label),
  }));
  const silent = fired.filter((f) => f.status === 'silent').map((f) => ({ rule: f.id, indicator: f.indicator, summary: '(silent rule: no card)', detail: '', suggestions: [] }));
  return [...fromCards, ...silent];
}

/** The card offers exactly the expected suggestions, in order, each label containing its text. */
function offers(labels: readonly string[], expected: readonly string[]): boolean {
  return labels.length === expected.length && expected.every((text, i) => labels[i]!.includes(text));
}

type Want = Exclude<NonNullable<Scenario['expect']['fires']>[number], string>;

/** Each expectation on a card, with what to say of a card that misses it. */
function expectations(want: Want): { ok: (f: Firing) => boolean; problem: (f: Firing) => string }[] {
  const label = (labels: readonly string[]) => (labels.length === 0 ? 'none' : labels.map((l) => `"${l}"`).join(', '));
  return [
    ...(want.indicator ? [{ ok: (f: Firing) => f.indicator === want.indicator, problem: (f: Firing) => `fired as ${f.indicator}, expected ${want.indicator}` }] : []),
    ...(want.summaryContains
      ? [{ ok: (f: Firing) => f.summary.includes(want.summaryContains!), problem: () => `no summary contains "${want.summaryContains}"` }]
      : []),
    ...(want.detailContains
      ? [{ ok: (f: Firing) => f.detail.includes(want.detailContains!), problem: () => `no detail contains "${want.detailContains}"` }]
      : []),
    ...(want.lacks
      ? [
          {
            ok: (f: Firing) => want.lacks!.every((t) => !f.summary.includes(t) && !f.detail.includes(t)),
            problem: (f: Firing) => `the card says ${want.lacks!.filter((t) => f.summary.includes(t) || f.detail.includes(t)).map((t) => `"${t}"`).join(', ')}`,
          },
        ]
      : []),
    ...(want.suggestions
      ? [{ ok: (f: Firing) => offers(f.suggestions, want.suggestions!), problem: (f: Firing) => `expected suggestions ${label(want.suggestions!)}, got ${label(f.suggestions)}` }]
      : []),
  ];
}

function compare(expect: Scenario['expect'], status: number, firings: Firing[]): string[] {
  const problems: string[] = [];
  const expectedStatus = expect.status ?? 200;
  if (status !== expectedStatus) problems.push(`expected HTTP ${expectedStatus}, got ${status}`);
  if (status !== 200) return problems;
  const fires = (expect.fires ?? []).map((f) => (typeof f === 'string' ? { rule: f } : f));
  for (const want of fires) {
    const candidates = firings.filter((f) => f.rule === want.rule);
    if (candidates.length === 0) {
      problems.push(`${want.rule} did not fire`);
      continue;
    }
    // One card must meet every expectation together (a rule may give one card per drug pair or order).
    const checks = expectations(want);
    const best = candidates
      .map((f) => ({ f, failed: checks.filter((c) => !c.ok(f)) }))
      .sort((a, b) => a.failed.length - b.failed.length)[0]!;
    if (best.failed.length > 0) problems.push(`${want.rule}: ${best.failed.map((c) => c.problem(best.f)).join('; ')}`);
  }
  for (const rule of expect.absent ?? []) {
    if (firings.some((f) => f.rule === rule)) problems.push(`${rule} fired but should not have`);
  }
  if (expect.exactly) {
    for (const f of firings) {
      if (!fires.some((w) => w.rule === f.rule)) problems.push(`${f.rule} fired but is not expected ("exactly": true)`);
    }
  }
  return problems;
}

/**
 * The rules a failed scenario is about (expected to fire, expected absent, or fired unexpectedly), explained
 * condition by condition with the value each fact resolved to (value, unit, date): why "fired: (nothing)".
 * Prefetch mode; empty when the call itself fails (the status says why).
 */
export async function explainScenario(ruleset: Ruleset, c: ScenarioCase, result: ScenarioResult): Promise<RuleExplanation[]> {
  const { expect } = c.scenario;
  const named = new Set([
    ...(expect.fires ?? []).map((f) => (typeof f === 'string' ? f : f.rule)),
    ...(expect.absent ?? []),
    ...result.firings.map((f) => f.rule),
  ]);
  const hook = hookModule(c.scenario.hook);
  try {
    const body = buildRequest(c.chart, c.scenario, hookRequirements(hook, ruleset), c.now);
    const { explanation } = await explainHook(hook, validateCall(hook, body), ruleset, scenarioDeps(c, []));
    return explanation.filter((x) => named.has(x.rule));
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    return [];
  }
}

/** Every scenario under `<dir>/tests` run against `ruleset`; each one that fails is a load error naming it. */
export async function scenarioErrors(dir: string, ruleset: Ruleset): Promise<LoadError[]> {
  const { cases, errors } = await readScenarios(dir);
  for (const c of cases) {
    const result = await runScenario(ruleset, c);
    if (result.problems.length > 0) {
      errors.push({ file: c.file, pointer: `/scenarios/${c.index}`, message: `scenario "${c.scenario.name}" fails: ${result.problems.join('; ')}` });
    }
  }
  return errors;
}

/** A failure as a reader wants it: what was expected, what fired (with summaries), what differs. */
export function describeFailure(c: ScenarioCase, result: ScenarioResult): string {
  const { expect } = c.scenario;
  const fires = (expect.fires ?? []).map((f) => (typeof f === 'string' ? f : `${f.rule}${f.indicator ? ` (${f.indicator})` : ''}`));
  const lines = [
    `${c.file} › ${c.scenario.name}`,
    `  expected to fire: ${fires.join(', ') || '(nothing in particular)'}${expect.exactly ? ' and nothing else' : ''}`,
    ...(expect.absent?.length ? [`  expected absent:  ${expect.absent.join(', ')}`] : []),
    result.status === 200 ? '  fired:' : `  HTTP ${result.status}`,
    ...result.firings.map((f) => `    ${f.rule.padEnd(20)} ${f.indicator.padEnd(8)} ${f.summary}`),
    ...(result.status === 200 && result.firings.length === 0 ? ['    (nothing)'] : []),
    '  problems:',
    ...result.problems.map((p) => `    - ${p}`),
  ];
  return lines.join('\n');
}
