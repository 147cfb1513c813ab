import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HookRequest } from '../src/cds/request-schema.js';
import { fillTemplate, tokenValues } from '../src/patient-data/tokens.js';
import { answer } from '../src/scenarios/build-request.js';

/**
 * Benchmark inputs built from the content's synthetic charts (rules/tests/patients), so the benchmark
 * exercises the same clinical pictures the scenario tests do: a chart answers FHIR searches the way an
 * EHR would, both to fill prefetch and, in the FHIR stub, to answer the service's own fetches.
 */

export const ROOT = path.resolve(import.meta.dirname, '..');
/** The instant the charts are written against (the scenarios' default `now`). */
const CHART_NOW = Date.parse('2026-11-21T12:00:00Z');
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export type Resource = { resourceType: string; id?: string } & Record<string, unknown>;

export interface Chart {
  patientId: string;
  resources: Resource[];
  draftOrders: Resource[];
}

export function loadChart(name: string): Chart {
  const file = path.join(ROOT, 'rules/tests/patients', `${name}.json`);
  const chart = JSON.parse(readFileSync(file, 'utf8')) as Chart;
  return shiftDates(chart, Date.now() - CHART_NOW);
}

/** Moves every date-time in the chart by `ms`, so "this morning's potassium" stays this morning's whenever the bench runs. */
function shiftDates<T>(value: T, ms: number): T {
  if (typeof value === 'string' && ISO_DATETIME.test(value)) return new Date(Date.parse(value) + ms).toISOString() as T;
  if (Array.isArray(value)) return value.map((v: unknown) => shiftDates(v, ms)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shiftDates(v, ms)])) as T;
  }
  return value;
}

const HOUR = 3_600_000;

/**
 * The order-sign chart of scenario (1): stage D HF with CKD on IV furosemide, a standard-dose milrinone
 * draft (renal dose, potassium, sodium, Y-site, shared line and telemetry cards), plus the history a
 * real inpatient has: three earlier days of labs and vitals, and a drug allergy.
 */
export function orderSignChart(): Chart {
  const chart = loadChart('stage-d-ckd-furosemide');
  const observations = chart.resources.filter((r) => r.resourceType === 'Observation');
  const history: Resource[] = [];
  for (let day = 1; day <= 3; day++) {
    for (const obs of observations) {
      const copy = structuredClone(obs) as Resource & { effectiveDateTime?: string; valueQuantity?: { value: number } };
      copy.id = `${obs.id}-d${day}`;
      if (copy.effectiveDateTime) copy.effectiveDateTime = new Date(Date.parse(copy.effectiveDateTime) - day * 24 * HOUR).toISOString();
      if (copy.valueQuantity) copy.valueQuantity.value = Math.round(copy.valueQuantity.value * (1 + day * 0.02) * 100) / 100;
      history.push(copy);
    }
  }
  const allergy: Resource = {
    resourceType: 'AllergyIntolerance',
    id: `${chart.patientId}-allergy-1`,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
    type: 'allergy',
    category: ['medication'],
    criticality: 'high',
    code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7980', display: 'penicillin G' }], text: 'Penicillin' },
    patient: { reference: `Patient/${chart.patientId}` },
    recordedDate: '2019-05-02',
    reaction: [{ manifestation: [{ coding: [{ system: 'http://snomed.info/sct', code: '271807003', display: 'Eruption of skin' }] }], severity: 'moderate' }],
  };
  return { ...chart, resources: [...chart.resources, ...history, allergy] };
}

/** A chart with `n` Observations: the order-sign chart's codes, one result per hour going back. */
export function chartWithObservations(n: number): Chart {
  const chart = orderSignChart();
  const templates = chart.resources.filter((r) => r.resourceType === 'Observation' && !/-d\d$/.test(r.id ?? ''));
  const others = chart.resources.filter((r) => r.resourceType !== 'Observation');
  const observations: Resource[] = [];
  for (let i = 0; i < n; i++) {
    const copy = structuredClone(templates[i % templates.length]!) as Resource & { effectiveDateTime?: string };
    copy.id = `obs-${i}`;
    copy.effectiveDateTime = new Date(Date.now() - (1 + Math.floor(i / templates.length)) * HOUR).toISOString();
    observations.push(copy);
  }
  return { ...chart, resources: [...others, ...observations] };
}

/** The prefetch an EHR would send for the service's templates. */
export function buildPrefetch(
  templates: Record<string, string>,
  chart: Chart,
  context: Record<string, unknown>,
  options: { ignoreCount?: boolean } = {},
): Record<string, unknown> {
  const tokens = tokenValues(context as HookRequest['context']);
  return Object.fromEntries(
    Object.entries(templates).map(([key, template]) => {
      const url = fillTemplate(template, tokens);
      return [key, url === undefined ? null : answer(url, chart.resources, options)];
    }),
  );
}

export interface HookBodies {
  orderSign: { body: Record<string, unknown>; bytes: number; observations: number };
  patientView: { body: Record<string, unknown>; bytes: number };
  orderSignNoPrefetch: { body: Record<string, unknown> };
}

type Discovery = { services: { id: string; hook: string; prefetch?: Record<string, string> }[] };

const uuid = (n: number) => `6f1c2a7e-0b3d-4c5e-9f80-${String(n).padStart(12, '0')}`;

/** The three benchmark requests, from the service's own discovery document. */
export function hookBodies(discovery: Discovery, fhirServer: string): HookBodies {
  const templates = (hook: string) => discovery.services.find((s) => s.hook === hook)?.prefetch ?? {};
  const sign = orderSignChart();
  const signContext = {
    userId: 'Practitioner/prac-hf-attending',
    patientId: sign.patientId,
    draftOrders: { resourceType: 'Bundle', type: 'collection', entry: sign.draftOrders.map((resource) => ({ resource })) },
  };
  const orderSign = {
    hook: 'order-sign',
    hookInstance: uuid(1),
    context: signContext,
    prefetch: buildPrefetch(templates('order-sign'), sign, signContext),
  };
  const view = loadChart('active-milrinone-patient-view');
  const viewContext = { userId: 'Practitioner/prac-hf-attending', patientId: view.patientId };
  const patientView = {
    hook: 'patient-view',
    hookInstance: uuid(2),
    context: viewContext,
    prefetch: buildPrefetch(templates('patient-view'), view, viewContext),
  };
  const orderSignNoPrefetch = {
    hook: 'order-sign',
    hookInstance: uuid(3),
    fhirServer,
    fhirAuthorization: { access_token: 'bench-token', token_type: 'Bearer', expires_in: 3600, scope: 'patient/*.read', subject: 'inotrope-cds' },
    context: signContext,
  };
  return {
    orderSign: {
      body: orderSign,
      bytes: Buffer.byteLength(JSON.stringify(orderSign)),
      observations: countObservations(orderSign.prefetch),
    },
    patientView: { body: patientView, bytes: Buffer.byteLength(JSON.stringify(patientView)) },
    orderSignNoPrefetch: { body: orderSignNoPrefetch },
  };
}

/** Distinct Observations across a prefetch's Bundles. */
function countObservations(prefetch: Record<string, unknown>): number {
  const ids = new Set<string>();
  for (const value of Object.values(prefetch)) {
    for (const entry of (value as { entry?: { resource: Resource }[] } | null)?.entry ?? []) {
      if (entry.resource.resourceType === 'Observation') ids.add(String(entry.resource.id));
    }
  }
  return ids.size;
}
