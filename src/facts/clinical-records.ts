import { z } from 'zod';
import type { AllergyIntolerance, Coding, Condition, Procedure, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { durationSchema, valueSetParam } from './params.js';
import { isRecent } from './time.js';
import { ALLERGIES_REQUIREMENT, CONDITIONS_REQUIREMENT, DEVICES_REQUIREMENT, PROCEDURES_REQUIREMENT, SERVICE_REQUESTS_REQUIREMENT } from './requirements.js';
import type { FactContext, FactDefinition, ValueSet } from './types.js';
import { namesIn, wordsOf } from './medications.js';
import { codingKey, codingsOf, displayOf, matchCoding } from './value-sets.js';
import { date, list, object, oneOf, text } from './value-shape.js';

/** Conditions, allergies, service requests, devices and procedures coded in a value set. */

export interface CodedRecord {
  /** `system|code` of the matching coding. */
  code: string;
  display: string;
  reference: string | null;
}

export interface ConditionRecord extends CodedRecord {
  onset: string | null;
  /** Condition.recordedDate, when given. */
  recorded: string | null;
}

export interface ProcedureRecord extends CodedRecord {
  /** When it was performed: performedDateTime, else the end (or start) of performedPeriod. */
  performed: string | null;
}

export interface ServiceRequestRecord extends CodedRecord {
  /** `draft`: ordered in this session; `record`: in the patient's record. */
  origin: 'draft' | 'record';
}

const ACTIVE_CLINICAL = new Set(['active', 'recurrence', 'relapse']);
const NOT_TRUE = new Set(['refuted', 'entered-in-error']);

/** Active (or status not recorded and not abated) and not refuted / entered in error. */
function isCurrent(resource: Condition | AllergyIntolerance): boolean {
  const clinical = codingsOf(resource.clinicalStatus).map((c) => c.code);
  if (clinical.length > 0 && !clinical.some((code) => ACTIVE_CLINICAL.has(code ?? ''))) return false;
  if (clinical.length === 0 && resource.resourceType === 'Condition' && hasAbatement(resource)) return false;
  return !codingsOf(resource.verificationStatus).some((c) => NOT_TRUE.has(c.code ?? ''));
}

function hasAbatement(condition: Condition): boolean {
  return Object.keys(condition).some((key) => key.startsWith('abatement'));
}

function referenceOf(resource: Resource): string | null {
  return typeof resource.id === 'string' && resource.id !== '' ? `${resource.resourceType}/${resource.id}` : null;
}

/**
 * The record's coding in the set; else, for a set with names (`matchText`), the record's own words
 * naming it (an allergy to corn is often recorded as text): then `code` is its first coding, if any.
 */
function coded(valueSet: ValueSet | undefined, codings: Coding[], text: unknown): { code: string; display: string } | null {
  const match = matchCoding(valueSet, codings);
  if (match) return { code: codingKey(match.coding) as string, display: displayOf(match.coding, match.entry, text, valueSet?.title) };
  if (!valueSet?.matchText || !namesIn(valueSet, wordsOf([text, ...codings.map((c) => c.display)]))) return null;
  const first = codings.find((c) => codingKey(c) !== null);
  return { code: first ? (codingKey(first) as string) : '', display: displayOf(first, undefined, text, valueSet.title) };
}

const codedShape = { code: text, display: text, reference: text };
/** Current conditions coded in a value set, as the conditions facts return them. */
export const conditionShape = list(object({ ...codedShape, onset: date, recorded: date }));

const valueSetParams = z.strictObject({ valueSet: valueSetParam });
type ValueSetParams = z.infer<typeof valueSetParams>;

const conditionParams = z.strictObject({
  valueSet: valueSetParam,
  onsetWithin: durationSchema
    .optional()
    .describe('Only conditions that began this recently (onset, else the date recorded); a condition with neither date does not count.'),
});
type ConditionParams = z.infer<typeof conditionParams>;

export const conditions = {
  params: conditionParams,
  refs: (p) => [{ kind: 'valueSet', name: p.valueSet }],
  requirements: () => [CONDITIONS_REQUIREMENT],
  value: conditionShape,
  compute: (p, ctx): ConditionRecord[] => {
    const records = conditionRecords(ctx, p.valueSet);
    const within = p.onsetWithin;
    return within === undefined ? records : records.filter((r) => isRecent(r.onset ?? r.recorded, within, ctx.now));
  },
} satisfies FactDefinition<ConditionParams>;

/** The patient's current conditions coded in the value set (the conditions fact's value). */
export function conditionRecords(ctx: Pick<FactContext, 'data' | 'knowledge'>, valueSetName: string): ConditionRecord[] {
  const valueSet = ctx.knowledge.valueSets.get(valueSetName);
  return ctx.data.conditions.flatMap((condition) => {
    if (!isCurrent(condition)) return [];
    const match = coded(valueSet, codingsOf(condition.code), condition.code?.text);
    if (!match) return [];
    const onset = condition.onsetDateTime ?? condition.onsetPeriod?.start ?? null;
    const recorded = condition.recordedDate;
    return [{ ...match, onset: typeof onset === 'string' ? onset : null, recorded: typeof recorded === 'string' ? recorded : null, reference: referenceOf(condition) }];
  });
}

export const allergies = {
  params: valueSetParams,
  refs: (p) => [{ kind: 'valueSet', name: p.valueSet }],
  requirements: () => [ALLERGIES_REQUIREMENT],
  value: list(object(codedShape)),
  compute: (p, ctx): CodedRecord[] => {
    const valueSet = ctx.knowledge.valueSets.get(p.valueSet);
    return ctx.data.allergies.flatMap((allergy) => {
      if (!isCurrent(allergy)) return [];
      const reactions = Array.isArray(allergy.reaction) ? allergy.reaction : [];
      const match =
        coded(valueSet, codingsOf(allergy.code), allergy.code?.text) ??
        reactions.reduce<ReturnType<typeof coded>>(
          (found, r) => found ?? coded(valueSet, codingsOf(r?.substance), r?.substance?.text),
          null,
        );
      return match ? [{ ...match, reference: referenceOf(allergy) }] : [];
    });
  },
} satisfies FactDefinition<ValueSetParams>;

const OPEN_REQUEST = new Set(['active', 'draft']);

export const serviceRequests = {
  params: valueSetParams,
  refs: (p) => [{ kind: 'valueSet', name: p.valueSet }],
  requirements: () => [SERVICE_REQUESTS_REQUIREMENT],
  value: list(object({ ...codedShape, origin: oneOf('draft or record', ['draft', 'record']) })),
  compute: (p, ctx): ServiceRequestRecord[] => {
    const valueSet = ctx.knowledge.valueSets.get(p.valueSet);
    const drafts = ctx.data.otherDraftOrders.filter((r): r is ServiceRequest => r.resourceType === 'ServiceRequest');
    const sources: [ServiceRequest, ServiceRequestRecord['origin']][] = [
      ...drafts.map((r) => [r, 'draft'] as [ServiceRequest, 'draft']),
      ...ctx.data.serviceRequests.map((r) => [r, 'record'] as [ServiceRequest, 'record']),
    ];
    return sources.flatMap(([request, origin]) => {
      if (!OPEN_REQUEST.has(request.status ?? '')) return [];
      const match = coded(valueSet, codingsOf(request.code), request.code?.text);
      return match ? [{ ...match, reference: referenceOf(request), origin }] : [];
    });
  },
} satisfies FactDefinition<ValueSetParams>;

// A device recorded as inactive (removed) or entered in error is not on the patient now.
const UNUSABLE_DEVICE = new Set(['inactive', 'entered-in-error']);

export const devices = {
  params: valueSetParams,
  refs: (p) => [{ kind: 'valueSet', name: p.valueSet }],
  requirements: () => [DEVICES_REQUIREMENT],
  value: list(object(codedShape)),
  compute: (p, ctx): CodedRecord[] => deviceRecords(ctx, p.valueSet),
} satisfies FactDefinition<ValueSetParams>;

/** The patient's devices (not inactive or entered in error) whose type is in the value set (the devices fact's value). */
export function deviceRecords(ctx: Pick<FactContext, 'data' | 'knowledge'>, valueSetName: string): CodedRecord[] {
  const valueSet = ctx.knowledge.valueSets.get(valueSetName);
  return ctx.data.devices.flatMap((device) => {
    if (UNUSABLE_DEVICE.has(device.status ?? '')) return [];
    const match = coded(valueSet, codingsOf(device.type), device.type?.text);
    return match ? [{ ...match, reference: referenceOf(device) }] : [];
  });
}

// Not performed, or recorded by mistake: no evidence of the procedure.
const UNUSABLE_PROCEDURE = new Set(['not-done', 'entered-in-error']);

const procedureParams = z.strictObject({
  valueSet: valueSetParam,
  within: durationSchema
    .optional()
    .describe('Only procedures performed this recently (performedDateTime, else performedPeriod); one without a date does not count.'),
});
type ProcedureParams = z.infer<typeof procedureParams>;

export const procedures = {
  params: procedureParams,
  refs: (p) => [{ kind: 'valueSet', name: p.valueSet }],
  requirements: () => [PROCEDURES_REQUIREMENT],
  value: list(object({ ...codedShape, performed: date })),
  compute: (p, ctx): ProcedureRecord[] => {
    const valueSet = ctx.knowledge.valueSets.get(p.valueSet);
    const records = ctx.data.procedures.flatMap((procedure) => {
      if (UNUSABLE_PROCEDURE.has(procedure.status ?? '')) return [];
      const match = coded(valueSet, codingsOf(procedure.code), procedure.code?.text);
      return match ? [{ ...match, performed: performedAt(procedure), reference: referenceOf(procedure) }] : [];
    });
    const within = p.within;
    return within === undefined ? records : records.filter((r) => isRecent(r.performed, within, ctx.now));
  },
} satisfies FactDefinition<ProcedureParams>;

function performedAt(procedure: Procedure): string | null {
  const at = procedure.performedDateTime ?? procedure.performedPeriod?.end ?? procedure.performedPeriod?.start;
  return typeof at === 'string' ? at : null;
}
