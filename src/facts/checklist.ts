import { z } from 'zod';
import { nameSchema } from '../shared/syntax.js';
import { durationSchema } from './params.js';
import {
  CONDITIONS_REQUIREMENT,
  DEVICES_REQUIREMENT,
  MEDICATIONS_REQUIREMENT,
  mergeRequirements,
  observationRequirement,
  SERVICE_REQUESTS_REQUIREMENT,
} from './requirements.js';
import type { FactContext, FactDefinition, KnowledgeRef } from './types.js';
import { conditionRecords, deviceRecords, serviceRequests } from './clinical-records.js';
import { identifyDrug } from './medications.js';
import { latestValue } from './observations.js';
import { concentrationOf, statedRateForms } from './rate.js';
import { formatQuantity } from './units.js';
import { list, object, oneOf, text } from './value-shape.js';

/**
 * A checklist for the subject order (DISCH-CHECKLIST: going home on an inotrope): each item is documented
 * when any of its evidence is in the record, missing when none is, and "to confirm" when it has no coded
 * evidence at all (teaching, supply plans: things FHIR records only as free text). Items, wording and
 * evidence live in the rule file.
 */

const evidenceSchema = z.union([
  z.strictObject({ conditions: nameSchema.describe('A current Condition coded in this value set.') }),
  z.strictObject({ serviceRequests: nameSchema.describe('An active or draft ServiceRequest coded in this value set.') }),
  z.strictObject({ devices: nameSchema.describe('A Device (not inactive or entered in error) whose type is in this value set.') }),
  z.strictObject({
    observation: z.strictObject({ valueSet: nameSchema, maxAge: durationSchema }).describe('A result in the value set no older than maxAge.'),
  }),
  z.strictObject({
    pumpProgramme: z.literal(true).describe('The subject order states a weight-based rate, a pump rate (mL/h) and the concentration.'),
  }),
]);
type Evidence = z.infer<typeof evidenceSchema>;

const itemSchema = z.strictObject({
  id: nameSchema,
  label: z.string().min(1).max(300).describe('The item as the card lists it.'),
  evidence: z.array(evidenceSchema).min(1).optional().describe('Any of these documents the item. Without it the item is listed to confirm.'),
  drugs: z.array(nameSchema).min(1).optional().describe('Only for an order of one of these inotropes (value-set names).'),
  appliesIf: z.array(evidenceSchema).min(1).optional().describe('Only when any of these is in the record (e.g. a palliative plan).'),
});

const checklistParams = z.strictObject({
  items: z
    .array(itemSchema)
    .min(1)
    .max(40)
    .refine((items) => new Set(items.map((i) => i.id)).size === items.length, 'item ids must be unique'),
});
type ChecklistParams = z.infer<typeof checklistParams>;

export interface ChecklistEntry {
  id: string;
  label: string;
  /** What documents it (documented items): `Palliative care (regime/therapy)`. */
  found?: string;
  display: string;
}

export interface ChecklistValue {
  documented: ChecklistEntry[];
  missing: ChecklistEntry[];
  toConfirm: ChecklistEntry[];
  /** Ids of the missing items, for `suggestions[].when` (`contains`). */
  missingIds: string[];
  /** Each list as card text, items separated by `; ` (`none` when empty). */
  documentedText: string;
  missingText: string;
  toConfirmText: string;
  display: string;
}

const itemIds = oneOf("the params' items", (_k, p: ChecklistParams) => p.items.map((i) => i.id));
const entryShape = list(object({ id: itemIds, label: text, found: text, display: text }));

function valueSetsOf(evidence: readonly Evidence[] | undefined): string[] {
  return (evidence ?? []).flatMap((e) => {
    if ('conditions' in e) return [e.conditions];
    if ('serviceRequests' in e) return [e.serviceRequests];
    if ('devices' in e) return [e.devices];
    if ('observation' in e) return [e.observation.valueSet];
    return [];
  });
}

/** What in the record documents one piece of evidence, or null. */
function found(evidence: Evidence, ctx: FactContext): string | null {
  if ('conditions' in evidence) return conditionRecords(ctx, evidence.conditions)[0]?.display ?? null;
  if ('serviceRequests' in evidence) return serviceRequests.compute({ valueSet: evidence.serviceRequests }, ctx)[0]?.display ?? null;
  if ('devices' in evidence) return deviceRecords(ctx, evidence.devices)[0]?.display ?? null;
  if ('observation' in evidence) return latestValue(ctx, evidence.observation.valueSet, { maxAge: evidence.observation.maxAge })?.display ?? null;
  const subject = ctx.subject;
  if (!subject) return null;
  const identity = identifyDrug(subject, ctx.knowledge, ctx.memo);
  const concentration = concentrationOf(subject, identity.valueSet === null ? undefined : ctx.knowledge.valueSets.get(identity.valueSet));
  const { weightBased, pump } = statedRateForms(subject);
  if (weightBased === null || pump === null || concentration === null) return null;
  return `${weightBased} = ${pump} at ${formatQuantity(concentration, 'ug/mL')}`;
}

function firstFound(evidence: readonly Evidence[], ctx: FactContext): string | null {
  for (const e of evidence) {
    const hit = found(e, ctx);
    if (hit !== null) return hit;
  }
  return null;
}

function listDisplay(entries: readonly ChecklistEntry[]): string {
  return entries.length === 0 ? 'none' : entries.map((e) => e.display).join('; ');
}

export const checklist = {
  params: checklistParams,
  scope: 'order',
  refs: (p) =>
    p.items.flatMap((i): KnowledgeRef[] =>
      [...valueSetsOf(i.evidence), ...valueSetsOf(i.appliesIf), ...(i.drugs ?? [])].map((name) => ({ kind: 'valueSet', name })),
    ),
  requirements: (p, knowledge) => {
    const all = p.items.flatMap((i) => [...(i.evidence ?? []), ...(i.appliesIf ?? [])]);
    return mergeRequirements(
      [MEDICATIONS_REQUIREMENT],
      all.some((e) => 'conditions' in e) ? [CONDITIONS_REQUIREMENT] : [],
      all.some((e) => 'serviceRequests' in e) ? [SERVICE_REQUESTS_REQUIREMENT] : [],
      all.some((e) => 'devices' in e) ? [DEVICES_REQUIREMENT] : [],
      ...all.flatMap((e) => ('observation' in e ? [observationRequirement(e.observation.valueSet, knowledge)] : [])),
    );
  },
  value: object({
    documented: entryShape,
    missing: entryShape,
    toConfirm: entryShape,
    missingIds: list(itemIds),
    documentedText: text,
    missingText: text,
    toConfirmText: text,
    display: text,
  }),
  compute: (p, ctx): ChecklistValue | null => {
    const subject = ctx.subject;
    if (!subject) return null;
    const drug = identifyDrug(subject, ctx.knowledge, ctx.memo).valueSet;
    const value: ChecklistValue = { documented: [], missing: [], toConfirm: [], missingIds: [], documentedText: '', missingText: '', toConfirmText: '', display: '' };
    for (const item of p.items) {
      if (item.drugs && (drug === null || !item.drugs.includes(drug))) continue;
      if (item.appliesIf && firstFound(item.appliesIf, ctx) === null) continue;
      if (!item.evidence) {
        value.toConfirm.push({ id: item.id, label: item.label, display: item.label });
        continue;
      }
      const hit = firstFound(item.evidence, ctx);
      if (hit === null) {
        value.missing.push({ id: item.id, label: item.label, display: item.label });
        value.missingIds.push(item.id);
      } else {
        value.documented.push({ id: item.id, label: item.label, found: hit, display: `${item.label}: ${hit}` });
      }
    }
    value.documentedText = listDisplay(value.documented);
    value.missingText = listDisplay(value.missing);
    value.toConfirmText = listDisplay(value.toConfirm);
    value.display = `documented: ${value.documentedText}; missing: ${value.missingText}; to confirm: ${value.toConfirmText}`;
    return value;
  },
} satisfies FactDefinition<ChecklistParams>;
