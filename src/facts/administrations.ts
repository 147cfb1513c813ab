import type { MedicationAdministration } from '@medplum/fhirtypes';
import type { DataRequirement, MedicationOrder, PatientData } from '../shared/patient-data.js';
import { identifyDrug, isInotrope, referenceOf, summarize, type OrderSummary } from './medications.js';
import { z } from 'zod';
import { noParams, durationMs, durationSchema, type NoParams } from './params.js';
import { ADMINISTRATIONS_REQUIREMENT, MEDICATIONS_REQUIREMENT } from './requirements.js';
import { formatDate, timeOf } from './time.js';
import type { FactDefinition, Knowledge, Settings } from './types.js';
import type { CallMemo } from './memo.js';
import { codingsOf, matchCoding } from './value-sets.js';
import { orderSummaryShape } from './medications.js';
import { date, inotropeNames, list, number, object, text } from './value-shape.js';

/**
 * Whether an active inotrope order is actually being given. An order that stays `active` on the record
 * long after it was written, with no administration recorded, is most often one nobody discontinued:
 * checking it as a running infusion would raise cards about therapy the patient is not receiving.
 */

/**
 * Administrations recorded for the order: those that reference it, or (with no order reference) of the same
 * drug while the order existed: one that ended before the order was written belongs to an earlier course.
 */
export function administrationsOf(order: MedicationOrder, data: PatientData, knowledge: Knowledge, memo: CallMemo): MedicationAdministration[] {
  const self = referenceOf(order);
  const drug = identifyDrug(order, knowledge, memo).valueSet;
  const valueSet = drug === null ? undefined : knowledge.valueSets.get(drug);
  const written = timeOf(order.request?.authoredOn);
  return data.administrations.filter((a) => {
    const ref = a.request?.reference;
    if (typeof ref === 'string') return self !== null && (ref === self || ref.endsWith(`/${self}`));
    if (valueSet === undefined || matchCoding(valueSet, codingsOf(a.medicationCodeableConcept)) === null) return false;
    const ended = a.status === 'in-progress' ? null : timeOf(a.effectivePeriod?.end ?? a.effectiveDateTime ?? a.effectivePeriod?.start);
    return written === null || ended === null || ended >= written;
  });
}

/**
 * The active inotrope orders that look stale: authored longer ago than `settings.staleOrderAge` with no
 * administration recorded. Only decided when the administrations were asked for and obtained
 * (`requirements` holds their key and no gap names it): without them nothing can be called stale.
 */
export function staleInotropeOrders(
  data: PatientData,
  now: Date,
  knowledge: Knowledge,
  requirements: readonly DataRequirement[],
  memo: CallMemo,
): MedicationOrder[] {
  const key = ADMINISTRATIONS_REQUIREMENT.key;
  if (!requirements.some((r) => r.key === key) || data.gaps.some((g) => g.key === key)) return [];
  const limit = durationMs(knowledge.settings.staleOrderAge);
  if (limit === null) return [];
  return data.medicationOrders.filter((o) => {
    if (o.origin !== 'active' || !isInotrope(o, knowledge, memo)) return false;
    const authored = timeOf(o.request?.authoredOn);
    return authored !== null && now.getTime() - authored > limit && administrationsOf(o, data, knowledge, memo).length === 0;
  });
}

export interface StaleOrderValue extends OrderSummary {
  authoredOn: string;
  ageDays: number;
}

/** The stale active inotrope orders (left out of every other fact and of the order-scoped rules). */
export const staleOrders = {
  params: noParams,
  refs: (_p, settings: Settings) => settings.inotropes.map((name) => ({ kind: 'valueSet' as const, name })),
  requirements: () => [MEDICATIONS_REQUIREMENT, ADMINISTRATIONS_REQUIREMENT],
  settings: ['inotropes', 'staleOrderAge'],
  value: list(orderSummaryShape(inotropeNames, { authoredOn: date, ageDays: number })),
  compute: (_p, ctx): StaleOrderValue[] =>
    (ctx.staleOrders ?? []).map((o) => {
      const authoredOn = o.request.authoredOn ?? '';
      const ageDays = Math.floor((ctx.now.getTime() - (timeOf(authoredOn) ?? ctx.now.getTime())) / 86_400_000);
      const summary = summarize(o, ctx.knowledge, ctx.memo);
      return { ...summary, authoredOn, ageDays, display: `${summary.name} (active order written ${authoredOn.slice(0, 10)}, none given since)` };
    }),
} satisfies FactDefinition<NoParams>;

const coursesParams = z.strictObject({
  within: durationSchema.describe('Courses that ended this recently count, e.g. "180d".'),
  gap: durationSchema.describe('Administrations further apart than this are separate courses, e.g. "24h" (bag changes are not).'),
});
type CoursesParams = z.infer<typeof coursesParams>;

export interface Course {
  start: string;
  end: string;
  /** The inotropes given in the course, by title. */
  drugs: string;
}

export interface PastCoursesValue {
  count: number;
  courses: Course[];
  display: string;
}

/**
 * Earlier inotrope courses: the recorded administrations of any inotrope, grouped into courses (one ends when
 * the next administration starts more than `gap` after it), that finished more than `gap` ago and within
 * `within`. A course still running (in progress, or given within `gap`) is the current one and not counted:
 * a third course in months is a repeated regimen, whatever the current order says.
 */
export const pastCourses = {
  params: coursesParams,
  refs: (_p, settings: Settings) => settings.inotropes.map((name) => ({ kind: 'valueSet' as const, name })),
  requirements: () => [MEDICATIONS_REQUIREMENT, ADMINISTRATIONS_REQUIREMENT],
  settings: ['inotropes'],
  value: object({ count: number, courses: list(object({ start: date, end: date, drugs: text })), display: text }),
  compute: (p, ctx): PastCoursesValue => {
    const now = ctx.now.getTime();
    const gap = durationMs(p.gap) ?? 0;
    const since = now - (durationMs(p.within) ?? 0);
    const spans = ctx.data.administrations.flatMap((a) => {
      const drug = administeredInotrope(a, ctx.data, ctx.knowledge, ctx.memo);
      const start = timeOf(a.effectivePeriod?.start ?? a.effectiveDateTime);
      if (drug === null || start === null) return [];
      const end = a.status === 'in-progress' ? now : (timeOf(a.effectivePeriod?.end) ?? start);
      return [{ start, end: Math.max(start, end), drug }];
    });
    spans.sort((a, b) => a.start - b.start);
    const courses: { start: number; end: number; drugs: Set<string> }[] = [];
    for (const s of spans) {
      const last = courses[courses.length - 1];
      if (last && s.start - last.end <= gap) {
        last.end = Math.max(last.end, s.end);
        last.drugs.add(s.drug);
      } else courses.push({ start: s.start, end: s.end, drugs: new Set([s.drug]) });
    }
    const past = courses
      .filter((c) => now - c.end > gap && c.end >= since)
      .map((c) => ({ start: formatDate(c.start, ctx.timeZone), end: formatDate(c.end, ctx.timeZone), drugs: [...c.drugs].join(' and ') }));
    const dates = past.map((c) => (c.start === c.end ? `${c.drugs} ${c.start}` : `${c.drugs} ${c.start} to ${c.end}`));
    return { count: past.length, courses: past, display: past.length === 0 ? 'none' : `${past.length} (${dates.join('; ')})` };
  },
} satisfies FactDefinition<CoursesParams>;


/** The inotrope an administration gave, by its own coding, else by the order it references; null for other drugs. */
function administeredInotrope(a: MedicationAdministration, data: PatientData, knowledge: Knowledge, memo: CallMemo): string | null {
  for (const name of knowledge.settings.inotropes) {
    const set = knowledge.valueSets.get(name);
    if (set && matchCoding(set, codingsOf(a.medicationCodeableConcept)) !== null) return set.title;
  }
  const ref = a.request?.reference;
  if (typeof ref !== 'string') return null;
  const order = data.medicationOrders.find((o) => {
    const self = referenceOf(o);
    return self !== null && (ref === self || ref.endsWith(`/${self}`));
  });
  return order && isInotrope(order, knowledge, memo) ? summarize(order, knowledge, memo).name : null;
}
