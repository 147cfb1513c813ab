import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { fhirLimits, type Config } from '../config.js';
import { HOOKS, type Hook } from '../shared/hooks.js';
import { HOOK_MODULES, hookModule } from '../cds/hooks/registry.js';
import { explainHook, hookRequirements, validateCall } from '../cds/handle-hook.js';
import { DataUnavailableError } from '../patient-data/resolve.js';
import { describeRuleset, MAX_CODE_QUERY, searchCodes, type RulesetDescription } from '../rules/inspect.js';
import type { Ruleset, RulesetSource } from '../rules/ruleset.js';
import { buildRequest } from '../scenarios/build-request.js';
import { DEFAULT_NOW, readScenarios, runScenario } from '../scenarios/run-scenarios.js';
import { chartSchema, type Chart } from '../rules/scenarios/scenario-schema.js';
import { invalidRequest, notFound, ServiceError } from '../shared/errors.js';
import { jsonPointer } from '../shared/syntax.js';
import type { EvaluateAnswer, ExampleList, RulesetDocument, ScenarioRun, ScenarioSummary } from '../shared/operator-api.js';
import { jsonLimits } from './limits.js';

/**
 * The informaticist console's data (`/admin/*`), behind the operator authentication: the loaded
 * ruleset as a reader wants it, code search, the scenario tests and their results, example requests
 * and synthetic charts, and `POST /admin/evaluate` (cards plus a rule-by-rule explanation of the data
 * given, nothing fetched). Requests and Bundles sent here are neither stored nor logged: the request
 * log line carries the route and status only.
 */
export interface AdminRouterDeps {
  config: Config;
  rules: RulesetSource;
  /** Guard admitting operators only (src/http/auth/operator.ts). */
  operator: RequestHandler;
  /** The example requests offered in the playground (default: the repository's examples/). */
  examplesDir?: string;
  now?: () => Date;
}

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export function adminRouter(deps: AdminRouterDeps): Router {
  const { config } = deps;
  const router = Router();
  const examplesDir = deps.examplesDir ?? path.resolve(process.cwd(), 'examples');
  const chartsDir = path.join(config.RULES_DIR, 'tests', 'patients');
  const json = express.json({ limit: config.BODY_LIMIT_BYTES, type: () => true, strict: true });
  const described = new WeakMap<Ruleset, RulesetDescription>();
  let scenarios: { version: string; run: Promise<ScenarioRun> } | undefined;

  router.use('/admin', deps.operator, (_req, res, next) => {
    // Operator data and patient values: never cached by a browser or proxy.
    res.setHeader('cache-control', 'no-store');
    next();
  });

  router.get('/admin/ruleset', (_req, res) => {
    const ruleset = deps.rules.current();
    let description = described.get(ruleset);
    if (!description) {
      description = describeRuleset(documentsOf(ruleset));
      described.set(ruleset, description);
    }
    const refused = deps.rules.refusedReload?.();
    const answer: RulesetDocument = {
      version: ruleset.version,
      loadedAt: ruleset.loadedAt,
      counts: ruleset.counts,
      ...(refused && { lastReload: refused }),
      services: HOOK_MODULES.map((m) => ({ id: m.service.id, hook: m.hook })),
      ...description,
    };
    res.json(answer);
  });

  router.get('/admin/ruleset/scenarios', async (_req, res) => {
    const ruleset = deps.rules.current();
    // One run per ruleset version: the scenarios cannot change their answer while it serves.
    if (scenarios?.version !== ruleset.version) scenarios = { version: ruleset.version, run: runAllScenarios(ruleset, config.RULES_DIR) };
    res.json(await scenarios.run);
  });

  router.get('/admin/codes', (req, res) => {
    const q = req.query.q;
    if (typeof q !== 'string' || q.trim().length === 0 || q.length > MAX_CODE_QUERY) {
      throw invalidRequest(`q must be a code or words of its display (1–${MAX_CODE_QUERY} characters)`);
    }
    res.json(searchCodes(documentsOf(deps.rules.current()), q));
  });

  router.get('/admin/examples', async (_req, res) => {
    const examples = await readExamples(examplesDir);
    const charts = await readCharts(chartsDir);
    const answer: ExampleList = {
      examples: [...examples].map(([id, e]) => ({ id, hook: e.hook, label: `${id} (${e.hook})` })),
      charts: [...charts].map(([id, c]) => ({ id, label: `${id}: ${c.description.length > 90 ? `${c.description.slice(0, 89)}…` : c.description}` })),
      hooks: HOOKS,
    };
    res.json(answer);
  });

  router.get('/admin/examples/:id', async (req, res) => {
    const example = (await readExamples(examplesDir)).get(String(req.params.id));
    if (!example) throw notFound('No such example request');
    res.json({ request: example.request, now: DEFAULT_NOW });
  });

  router.get('/admin/charts/:id', async (req, res) => {
    const chart = (await readCharts(chartsDir)).get(String(req.params.id));
    if (!chart) throw notFound('No such synthetic chart');
    const hook = hookParam(req.query.hook);
    const now = new Date(DEFAULT_NOW);
    const request = buildRequest(chart, { name: String(req.params.id), patient: String(req.params.id), hook, expect: {} }, hookRequirements(hookModule(hook), deps.rules.current()), now);
    res.json({ request, now: DEFAULT_NOW });
  });

  router.post('/admin/requests/from-bundle', requireJson, json, async (req, res) => {
    const parsed = fromBundleSchema.safeParse(req.body);
    if (!parsed.success) throw invalid('Invalid body', parsed.error);
    const { hook, bundle } = parsed.data;
    if (bundle.entry.length > config.MAX_BUNDLE_ENTRIES) {
      throw new ServiceError('payload-too-large', `The Bundle has more than ${config.MAX_BUNDLE_ENTRIES} entries`, { pointer: '/bundle/entry' });
    }
    const resources = bundle.entry.flatMap((e) => (e.resource ? [e.resource] : []));
    const patient = resources.find((r) => r.resourceType === 'Patient');
    if (typeof patient?.id !== 'string') throw invalidRequest('The Bundle needs a Patient resource with an id', '/bundle/entry');
    const isDraft = (r: Record<string, unknown>) => r.resourceType === 'MedicationRequest' && r.status === 'draft';
    const chart = {
      description: 'Uploaded Bundle',
      patientId: patient.id,
      resources: resources.filter((r) => !isDraft(r)),
      draftOrders: resources.filter(isDraft),
    } as Chart;
    const now = deps.now?.() ?? new Date();
    res.json({ request: buildRequest(chart, { name: 'upload', patient: 'upload', hook, expect: {} }, hookRequirements(hookModule(hook), deps.rules.current()), now) });
  });

  router.post('/admin/evaluate', requireJson, json, jsonLimits(config), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { now: nowText, fhirServer: _server, fhirAuthorization: _token, ...request } = body;
    let now = deps.now?.() ?? new Date();
    if (nowText !== undefined) {
      const parsedNow = z.iso.datetime({ offset: true }).safeParse(nowText);
      if (!parsedNow.success) throw invalidRequest('now must be an RFC 3339 date-time such as 2026-11-21T12:00:00Z', '/now');
      now = new Date(parsedNow.data);
    }
    const hook = request.hook as Hook;
    if (!HOOKS.includes(hook)) throw invalidRequest(`hook must be one of ${HOOKS.join(', ')}`, '/hook');
    const module = hookModule(hook);
    const valid = validateCall(module, request);
    const ruleset = deps.rules.current();
    try {
      // Only the data given: no FHIR server may be used (an empty allowlist), and nothing is logged.
      const result = await explainHook(module, valid, ruleset, { data: { fhirServerAllowlist: [], ...fhirLimits(config) }, now: () => now, uuid: randomUUID, timeZone: config.DISPLAY_TIME_ZONE });
      const answer: EvaluateAnswer = { cards: result.cards, explanation: result.explanation };
      res.json(answer);
    } catch (err) {
      if (err instanceof DataUnavailableError) {
        throw new ServiceError('precondition-failed', `${err.message} (the playground evaluates only the data given: add it to prefetch)`, { details: err.details });
      }
      throw err;
    }
  });

  return router;
}

function documentsOf(ruleset: Ruleset) {
  if (!ruleset.documents) throw new ServiceError('unavailable', 'The loaded ruleset does not carry its documents');
  return ruleset.documents;
}

const fhirResource = z.looseObject({ resourceType: z.string().min(1).max(64), id: z.string().max(64).optional() });
const fromBundleSchema = z.object({
  hook: z.enum(HOOKS),
  bundle: z.looseObject({ resourceType: z.literal('Bundle'), entry: z.array(z.looseObject({ resource: fhirResource.optional() })).default([]) }),
});

function invalid(what: string, error: z.ZodError): ServiceError {
  const first = error.issues[0]!;
  const pointer = jsonPointer(first.path);
  return invalidRequest(`${what}: ${pointer || '/'} ${first.message}`, pointer);
}

function hookParam(value: unknown): Hook {
  if (value === undefined) return 'order-sign';
  if (typeof value !== 'string' || !HOOKS.includes(value as Hook)) throw invalidRequest(`hook must be one of ${HOOKS.join(', ')}`);
  return value as Hook;
}

const requireJson: RequestHandler = function requireJson(req, _res, next) {
  next(req.is(['application/json', 'application/*+json']) ? undefined : new ServiceError('unsupported-media-type', 'Send the request body as application/json'));
};

async function jsonFiles(dir: string): Promise<Map<string, unknown>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && ID.test(n.slice(0, -5))).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const out = new Map<string, unknown>();
  for (const name of names) {
    try {
      out.set(name.slice(0, -5), JSON.parse(await readFile(path.join(dir, name), 'utf8')));
    } catch {
      // An unreadable example is left out; `npm run rules:check` reports broken charts.
    }
  }
  return out;
}

async function readExamples(dir: string): Promise<Map<string, { hook: Hook; request: unknown }>> {
  const out = new Map<string, { hook: Hook; request: unknown }>();
  for (const [id, request] of await jsonFiles(dir)) {
    const hook = (request as { hook?: unknown }).hook as Hook;
    if (HOOKS.includes(hook)) out.set(id, { hook, request });
  }
  return out;
}

async function readCharts(dir: string): Promise<Map<string, Chart>> {
  const out = new Map<string, Chart>();
  for (const [id, json] of await jsonFiles(dir)) {
    const parsed = chartSchema.safeParse(json);
    if (parsed.success) out.set(id, parsed.data);
  }
  return out;
}

async function runAllScenarios(ruleset: Ruleset, dir: string): Promise<ScenarioRun> {
  const { cases, errors } = await readScenarios(dir);
  const results: ScenarioSummary[] = [];
  for (const c of cases) {
    const r = await runScenario(ruleset, c);
    results.push({ file: c.file, name: c.scenario.name, hook: c.scenario.hook, passed: r.problems.length === 0, problems: r.problems, fired: r.firings.map((f) => f.rule) });
  }
  const failed = results.filter((r) => !r.passed).length;
  return { version: ruleset.version, passed: results.length - failed, failed, results, errors };
}
