import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { readRuleset } from '../src/rules/load.js';
import type { Ruleset } from '../src/rules/ruleset.js';
import { discoveryServices } from '../src/cds/services.js';
import { runHook, validateCall } from '../src/cds/handle-hook.js';
import { orderSign } from '../src/cds/hooks/order-sign.js';
import { fhirLimits, testConfig } from '../src/config.js';
import { buildPrefetch, chartWithObservations, orderSignChart, ROOT, type Chart } from './chart.js';

/**
 * Scaling curves, measured in-process on the real pipeline (request validation, data resolution and
 * normalisation, rule evaluation, card rendering; no HTTP and no JSON parsing, which the HTTP edge does
 * and bounds with BODY_LIMIT_BYTES): one order-sign request against rulesets of 10, 100 and 1 000
 * rules, and for patients with 10, 1 000 and 10 000 Observations.
 */

export interface Point {
  n: number;
  medianMs: number;
  p95Ms: number;
  iterations: number;
  cards: number;
}

export interface ScaleResults {
  rules: Point[];
  /** The EHR answers the prefetch templates as a conformant server does: code filter, newest first, `_count`. */
  observations: Point[];
  /** Stress: every Observation in prefetch (an EHR ignoring `_count`), more than the edge admits in one body. */
  observationsUnbounded: Point[];
}

type Json = Record<string, unknown>;

/** A ruleset folder with `count` rules: the real rules cloned round-robin, each clone with its own shifted thresholds. */
export function syntheticRulesDir(count: number): string {
  const source = path.join(ROOT, 'rules');
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-rules-${count}-`));
  cpSync(path.join(source, 'settings.json'), path.join(dir, 'settings.json'));
  cpSync(path.join(source, 'value-sets'), path.join(dir, 'value-sets'), { recursive: true });
  cpSync(path.join(source, 'thresholds'), path.join(dir, 'thresholds'), { recursive: true });
  mkdirSync(path.join(dir, 'rules'));

  const ruleFiles = readdirSync(path.join(source, 'rules')).filter((f) => f.endsWith('.json')).sort();
  const originals = ruleFiles.flatMap((f) => (JSON.parse(readFileSync(path.join(source, 'rules', f), 'utf8')) as { rules: Json[] }).rules);
  const thresholds: Record<string, Json> = {};
  for (const f of readdirSync(path.join(source, 'thresholds')).filter((x) => x.endsWith('.json'))) {
    Object.assign(thresholds, (JSON.parse(readFileSync(path.join(source, 'thresholds', f), 'utf8')) as { thresholds?: Record<string, Json> }).thresholds);
  }

  const clones: Json[] = [];
  const cloneThresholds: Record<string, Json> = {};
  for (let i = 0; i < count; i++) {
    const original = originals[i % originals.length]!;
    const suffix = `b${i}`;
    const factor = 1 + ((i % 7) - 3) / 100;
    const rename = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rename);
      if (value && typeof value === 'object') {
        return Object.fromEntries(
          Object.entries(value).map(([k, v]) => {
            if (k === 'threshold' && typeof v === 'string' && thresholds[v]) {
              const name = `${v}-${suffix}`;
              cloneThresholds[name] = { ...thresholds[v], value: Number(thresholds[v].value) * factor };
              return [k, name];
            }
            return [k, rename(v)];
          }),
        );
      }
      return value;
    };
    clones.push({ ...(rename(original) as Json), id: `${String(original.id)}-B${i}` });
  }
  writeFileSync(path.join(dir, 'rules', 'bench.json'), JSON.stringify({ $schema: '../schema/rules.schema.json', rules: clones }));
  writeFileSync(
    path.join(dir, 'thresholds', 'bench.json'),
    JSON.stringify({ $schema: '../schema/thresholds.schema.json', thresholds: cloneThresholds }),
  );
  return dir;
}

async function loadOrThrow(dir: string): Promise<Ruleset> {
  const result = await readRuleset(dir);
  if (!result.ok) throw new Error(`synthetic ruleset in ${dir} does not load: ${JSON.stringify(result.errors.slice(0, 3))}`);
  return result.ruleset;
}

export function orderSignBody(ruleset: Ruleset, chart: Chart, ignoreCount: boolean): unknown {
  const templates = discoveryServices(ruleset).find((s) => s.hook === 'order-sign')?.prefetch ?? {};
  const context = {
    userId: 'Practitioner/prac-hf-attending',
    patientId: chart.patientId,
    draftOrders: { resourceType: 'Bundle', type: 'collection', entry: chart.draftOrders.map((resource) => ({ resource })) },
  };
  return {
    hook: 'order-sign',
    hookInstance: randomUUID(),
    context,
    prefetch: buildPrefetch(templates, chart, context, { ignoreCount }),
  };
}

/** The service's configuration defaults: the data layer's caps as production runs them. */
const defaults = testConfig();

/** Times one request in-process: validate, resolve, evaluate, render. */
async function timeRequest(ruleset: Ruleset, body: unknown, budgetMs: number): Promise<Omit<Point, 'n'>> {
  const once = async () => {
    const start = performance.now();
    const outcome = await runHook(orderSign, validateCall(orderSign, body), ruleset, {
      data: {
        fhirServerAllowlist: [],
        ...fhirLimits(defaults),
      },
      now: () => new Date(),
      uuid: randomUUID,
    });
    return { ms: performance.now() - start, cards: outcome.response.cards.length };
  };
  for (let i = 0; i < 10; i++) await once();
  const samples: number[] = [];
  let cards = 0;
  const deadline = performance.now() + budgetMs;
  while (samples.length < 10 || (performance.now() < deadline && samples.length < 500)) {
    const r = await once();
    samples.push(r.ms);
    cards = r.cards;
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { medianMs: round(at(0.5)), p95Ms: round(at(0.95)), iterations: samples.length, cards };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export async function runScale(log: (line: string) => void = console.log): Promise<ScaleResults> {
  const real = await loadOrThrow(path.join(ROOT, 'rules'));
  // Let the JIT settle on the real ruleset first, so the first curve point is not the coldest.
  await timeRequest(real, orderSignBody(real, orderSignChart(), false), 1_000);
  const rules: Point[] = [];
  for (const n of [10, 100, 1000]) {
    const dir = syntheticRulesDir(n);
    try {
      const ruleset = await loadOrThrow(dir);
      const point = { n, ...(await timeRequest(ruleset, orderSignBody(ruleset, orderSignChart(), false), 2_000)) };
      rules.push(point);
      log(`  ${String(n).padStart(5)} ${'rules'.padEnd(31)} median ${point.medianMs.toFixed(2)} ms, p95 ${point.p95Ms.toFixed(2)} ms (${point.iterations} runs, ${point.cards} cards)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const observations: Point[] = [];
  const observationsUnbounded: Point[] = [];
  for (const [label, ignoreCount, points] of [
    ['Observations (conformant EHR)', false, observations],
    ['Observations (all in prefetch)', true, observationsUnbounded],
  ] as const) {
    for (const n of [10, 1000, 10000]) {
      const point = { n, ...(await timeRequest(real, orderSignBody(real, chartWithObservations(n), ignoreCount), 3_000)) };
      points.push(point);
      log(`  ${String(n).padStart(5)} ${label.padEnd(31)} median ${point.medianMs.toFixed(2)} ms, p95 ${point.p95Ms.toFixed(2)} ms (${point.iterations} runs, ${point.cards} cards)`);
    }
  }
  return { rules, observations, observationsUnbounded };
}
