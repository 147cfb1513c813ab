import type { DataRequirement } from '../shared/patient-data.js';
import { fillTemplate, tokenValues } from '../patient-data/tokens.js';
import { hookModule } from '../cds/hooks/registry.js';
import { requiresContextField } from '../cds/hooks/hook.js';
import { durationMs } from '../facts/params.js';
import { UCUM_SYSTEM } from '../shared/syntax.js';
import type { Chart, Scenario } from '../rules/scenarios/scenario-schema.js';

/**
 * Turns a chart and a scenario into the CDS Hooks request an EHR would send: draft orders in the
 * context, and each prefetch template of the ruleset answered from the chart as a conformant FHIR
 * server would answer the search.
 */

type Resource = Record<string, unknown> & { resourceType: string; id?: string };

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const IV_ROUTE = '47625008';
const HOOK_INSTANCE = 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea';

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

export function buildRequest(chart: Chart, scenario: Scenario, requirements: readonly DataRequirement[], now: Date): Record<string, unknown> {
  const { resources, drafts } = applyAdditions(chart, scenario, now);
  const context = requestContext(chart, scenario, resources, drafts);
  const tokens = tokenValues(context);
  const prefetch: Record<string, unknown> = {};
  for (const requirement of requirements) {
    if (scenario.remove?.includes(requirement.key)) continue;
    const url = fillTemplate(requirement.template, tokens);
    if (url === undefined) throw new ScenarioError(`prefetch template ${requirement.key} has a token the runner cannot fill: ${requirement.template}`);
    prefetch[requirement.key] = answer(url, resources);
  }
  Object.assign(prefetch, scenario.prefetch ?? {});
  return { hook: scenario.hook, hookInstance: HOOK_INSTANCE, context, prefetch };
}

/** The hook's context: the chart's encounter, draft orders where its rules evaluate them, and selections for order-select. */
export function requestContext(chart: Chart, scenario: Scenario, resources: readonly Resource[], drafts: readonly Resource[]): Record<string, unknown> {
  const context: Record<string, unknown> = { userId: 'Practitioner/scenario-runner', patientId: chart.patientId };
  // The encounter in context is the chart's. A hook that requires one (encounter-discharge: the encounter
  // being ended) gets, for a chart without an Encounter, an id the chart cannot answer, as an EHR's stale id would.
  const module = hookModule(scenario.hook);
  const encounter = resources.find((r) => r.resourceType === 'Encounter' && typeof r.id === 'string');
  if (encounter) context.encounterId = encounter.id;
  else if (requiresContextField(module, 'encounterId')) context.encounterId = `${chart.patientId}-encounter`;
  const { subjects } = module;
  if (subjects !== 'active') {
    context.draftOrders = { resourceType: 'Bundle', type: 'collection', entry: drafts.map((resource) => ({ resource })) };
  }
  if (subjects === 'selected-drafts') {
    context.selections =
      scenario.selections ??
      chart.selections ??
      drafts.filter((d) => d.resourceType === 'MedicationRequest').map((d) => `MedicationRequest/${String(d.id)}`);
  }
  return context;
}

/**
 * A FHIR read (`Patient/id`) or search (`Type?param=value&...`) answered from the chart's resources.
 * `ignoreCount` answers as an EHR that ignores `_count` (the benchmark's stress case).
 */
export function answer(url: string, resources: readonly Resource[], options: { ignoreCount?: boolean } = {}): unknown {
  const [target = '', query = ''] = url.split('?');
  const [type, id] = target.split('/');
  if (id !== undefined) return resources.find((r) => r.resourceType === type && r.id === id) ?? null;
  let matches = resources.filter((r) => r.resourceType === type);
  let count: number | undefined;
  let includeMedications = false;
  for (const [name, value] of new URLSearchParams(query)) {
    const anyOf = value.split(',');
    switch (name) {
      case 'patient':
      case 'subject':
      case '_sort':
        break; // every chart resource is the patient's; sorting is applied below
      case 'code':
        matches = matches.filter((r) => codings(r.code).some((c) => anyOf.some((token) => tokenMatches(token, c))));
        break;
      case 'status':
        matches = matches.filter((r) => anyOf.includes(String(r.status)));
        break;
      case 'clinical-status':
        matches = matches.filter((r) => codings(r.clinicalStatus).some((c) => anyOf.some((token) => tokenMatches(token, c))));
        break;
      case '_count':
        count = Number(value);
        break;
      case '_include':
        if (value !== 'MedicationRequest:medication') throw new ScenarioError(`the scenario runner cannot answer _include=${value}`);
        includeMedications = true;
        break;
      default:
        throw new ScenarioError(`the scenario runner cannot answer the search parameter "${name}" in ${url}`);
    }
  }
  if (type === 'Observation' || type === 'MedicationAdministration' || type === 'Procedure') matches = [...matches].sort((a, b) => effective(b).localeCompare(effective(a)));
  if (count !== undefined && !options.ignoreCount) matches = matches.slice(0, count);
  const entry: Record<string, unknown>[] = matches.map((resource) => ({ resource, search: { mode: 'match' } }));
  if (includeMedications) {
    const refs = new Set(matches.map((m) => (m.medicationReference as { reference?: string } | undefined)?.reference));
    for (const r of resources) {
      if (r.resourceType === 'Medication' && refs.has(`Medication/${String(r.id)}`)) entry.push({ resource: r, search: { mode: 'include' } });
    }
  }
  return { resourceType: 'Bundle', type: 'searchset', total: matches.length, entry };
}

function codings(concept: unknown): { system?: string; code?: string }[] {
  const coding = (concept as { coding?: unknown } | undefined)?.coding;
  return Array.isArray(coding) ? coding : [];
}

function tokenMatches(token: string, c: { system?: string; code?: string }): boolean {
  const bar = token.indexOf('|');
  return bar === -1 ? c.code === token : c.system === token.slice(0, bar) && c.code === token.slice(bar + 1);
}

function effective(r: Resource): string {
  const period = (r.effectivePeriod ?? r.performedPeriod) as { start?: string; end?: string } | undefined;
  return String(r.effectiveDateTime ?? r.effectiveInstant ?? r.performedDateTime ?? period?.end ?? period?.start ?? r.issued ?? '');
}

/** The chart's record with the scenario's additions: what a FHIR server holding it answers from. */
export function applyAdditions(chart: Chart, scenario: Scenario, now: Date): { resources: Resource[]; drafts: Resource[] } {
  const resources = structuredClone(chart.resources) as Resource[];
  const drafts = structuredClone(chart.draftOrders ?? []) as Resource[];
  const add = scenario.add ?? {};
  const subject = { reference: `Patient/${chart.patientId}` };
  const before = (ago: string) => new Date(now.getTime() - (durationMs(ago) ?? 0)).toISOString();
  let n = 0;
  const id = (kind: string) => `scenario-${kind}-${++n}`;
  const quantity = (value: number, unit: string) => ({ value, unit, system: UCUM_SYSTEM, code: unit });

  for (const o of add.observations ?? []) {
    resources.push(
      'resourceType' in o
        ? (o as Resource)
        : {
            resourceType: 'Observation',
            id: id('obs'),
            status: o.status ?? 'final',
            code: { coding: [{ system: o.system ?? LOINC, code: o.code }] },
            subject,
            effectiveDateTime: before(o.ago),
            ...(o.value !== undefined && { valueQuantity: quantity(o.value, o.unit ?? '1') }),
            ...(o.components && {
              component: o.components.map((c) => ({ code: { coding: [{ system: c.system ?? LOINC, code: c.code }] }, valueQuantity: quantity(c.value, c.unit) })),
            }),
          },
    );
  }
  for (const c of add.conditions ?? []) {
    resources.push(
      'resourceType' in c
        ? (c as Resource)
        : {
            resourceType: 'Condition',
            id: id('condition'),
            clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: c.clinicalStatus ?? 'active' }] },
            ...(c.verificationStatus && {
              verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: c.verificationStatus }] },
            }),
            code: { coding: [{ system: c.system ?? SNOMED, code: c.code }] },
            subject,
          },
    );
  }
  for (const a of add.allergies ?? []) {
    resources.push(
      'resourceType' in a
        ? (a as Resource)
        : {
            resourceType: 'AllergyIntolerance',
            id: id('allergy'),
            clinicalStatus: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: a.clinicalStatus ?? 'active' }],
            },
            ...(a.verificationStatus && {
              verificationStatus: {
                coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: a.verificationStatus }],
              },
            }),
            code: { coding: [{ system: a.system ?? SNOMED, code: a.code }] },
            patient: subject,
          },
    );
  }
  const route = (code: string | undefined) => ({ coding: [{ system: SNOMED, code: code ?? IV_ROUTE }] });
  const medication = (m: NonNullable<NonNullable<Scenario['add']>['medications']>[number], draft: boolean): Resource => {
    if ('resourceType' in m) return m as Resource;
    return {
      resourceType: 'MedicationRequest',
      id: m.id ?? id(draft ? 'draft' : 'medication'),
      status: m.status ?? (draft ? 'draft' : 'active'),
      intent: 'order',
      medicationCodeableConcept: { coding: [{ system: m.system ?? RXNORM, code: m.code }] },
      subject,
      authoredOn: before(m.authoredAgo ?? '0h'),
      // A loading dose is its own dosage instruction (sequence 1), as EHRs write a bolus before the infusion.
      dosageInstruction: [
        ...(m.dose
          ? [{ sequence: 1, text: 'Loading dose', route: route(m.route), doseAndRate: [{ doseQuantity: quantity(m.dose.value, m.dose.unit) }] }]
          : []),
        {
          ...(m.dose && { sequence: 2 }),
          route: route(m.route),
          ...(m.durationHours !== undefined && { timing: { repeat: { boundsDuration: { ...quantity(m.durationHours, 'h') } } } }),
          ...(m.rate && { doseAndRate: [{ rateQuantity: quantity(m.rate.value, m.rate.unit) }] }),
        },
      ],
    };
  };
  for (const m of add.medications ?? []) resources.push(medication(m, false));
  for (const m of add.draftOrders ?? []) drafts.push(medication(m, true));
  for (const a of add.administrations ?? []) {
    if ('resourceType' in a) {
      resources.push(a as Resource);
      continue;
    }
    const status = a.status ?? 'in-progress';
    resources.push({
      resourceType: 'MedicationAdministration',
      id: id('administration'),
      status,
      medicationCodeableConcept: { coding: [{ system: a.system ?? RXNORM, code: a.code }] },
      subject,
      ...(a.order !== undefined && { request: { reference: `MedicationRequest/${a.order}` } }),
      ...(status === 'in-progress' ? { effectivePeriod: { start: before(a.ago) } } : { effectiveDateTime: before(a.ago) }),
    });
  }
  if (scenario.patientChanges) {
    const patient = resources.find((r) => r.resourceType === 'Patient' && r.id === chart.patientId);
    if (!patient) throw new ScenarioError(`patientChanges: the chart has no Patient ${chart.patientId}`);
    Object.assign(patient, scenario.patientChanges);
  }
  for (const s of add.serviceRequests ?? []) {
    resources.push(
      'resourceType' in s
        ? (s as Resource)
        : { resourceType: 'ServiceRequest', id: id('service-request'), status: s.status ?? 'active', intent: 'order', code: { coding: [{ system: s.system ?? SNOMED, code: s.code }] }, subject },
    );
  }
  for (const d of add.devices ?? []) {
    resources.push(
      'resourceType' in d
        ? (d as Resource)
        : { resourceType: 'Device', id: id('device'), status: d.status ?? 'active', type: { coding: [{ system: d.system ?? SNOMED, code: d.code }] }, patient: subject },
    );
  }
  for (const p of add.procedures ?? []) {
    resources.push(
      'resourceType' in p
        ? (p as Resource)
        : {
            resourceType: 'Procedure',
            id: id('procedure'),
            status: p.status ?? 'completed',
            code: { coding: [{ system: p.system ?? SNOMED, code: p.code }] },
            subject,
            ...(p.ago !== undefined && { performedDateTime: before(p.ago) }),
          },
    );
  }
  return { resources, drafts };
}
