import { z } from 'zod';
import { durationSchema, tableParam, valueSetParam } from './params.js';
import { CONDITIONS_REQUIREMENT, mergeRequirements, observationRequirement, PATIENT_REQUIREMENT } from './requirements.js';
import type { FactContext, FactDefinition } from './types.js';
import { conditionRecords } from './clinical-records.js';
import { readLatest, tableOutput, type ObservedValue } from './observations.js';
import { patientValue } from './patient.js';
import { formatQuantity } from './units.js';
import { date, number, object, oneOf, text } from './value-shape.js';

/**
 * Renal function for a renal dose table (the milrinone label's, by clearance per 1.73 m²), from whatever
 * the chart holds: dialysis or end-stage renal disease on the problem list (the table's lowest row), else
 * the newest of an eGFR, a creatinine clearance, or an eGFR computed from the newest creatinine with the
 * CKD-EPI 2021 equation. When none is there within `maxAge`, it says what was missing.
 */

const renalParams = z.strictObject({
  table: tableParam.describe('The dose table, by clearance (its input unit, e.g. mL/min/{1.73_m2}).'),
  maxAge: durationSchema.describe('How recent a result must be, e.g. "72h".'),
  egfr: valueSetParam.describe('Value set of eGFR results.'),
  clearance: valueSetParam.describe('Value set of creatinine clearance results (Cockcroft-Gault, 24-hour urine).'),
  creatinine: valueSetParam.describe('Value set of serum creatinine results (the eGFR is computed from the newest).'),
  dialysis: valueSetParam.describe('Value set of Conditions meaning dialysis or end-stage renal disease.'),
});
type RenalParams = z.infer<typeof renalParams>;

const RENAL_BASES = ['dialysis', 'egfr', 'clearance', 'computed', 'none'] as const;
type RenalBasis = (typeof RENAL_BASES)[number];

export interface RenalValue {
  basis: RenalBasis;
  /** In the table's input unit; null for dialysis and when nothing was found. */
  value: number | null;
  unit: string;
  date: string | null;
  /** The table's dose for it; null above the table's range (no adjustment) or when nothing was found. */
  rate: number | null;
  rateUnit: string;
  /** `eGFR 27`, `computed eGFR 15`, `CrCl 25`, `dialysis or end-stage renal disease`: for a summary. */
  short: string;
  /** What was used and where it came from, or what was missing. */
  display: string;
}

export const renalFunction = {
  params: renalParams,
  refs: (p) => [
    { kind: 'table', name: p.table },
    ...[p.egfr, p.clearance, p.creatinine, p.dialysis].map((name) => ({ kind: 'valueSet' as const, name })),
  ],
  requirements: (p, knowledge) =>
    mergeRequirements(
      [PATIENT_REQUIREMENT, CONDITIONS_REQUIREMENT],
      ...[p.egfr, p.clearance, p.creatinine].map((name) => observationRequirement(name, knowledge)),
    ),
  value: object({
    basis: oneOf('what the renal function was read from', RENAL_BASES),
    value: number,
    unit: text,
    date,
    rate: number,
    rateUnit: text,
    short: text,
    display: text,
  }),
  observes: (p) => [p.egfr, p.clearance, p.creatinine].map((valueSet) => ({ valueSet, maxAge: p.maxAge })),
  compute: (p, ctx): RenalValue | null => {
    const table = ctx.knowledge.tables.get(p.table);
    if (!table) return null;
    const unit = table.input.unit;
    const rateUnit = table.output.unit;
    const dialysis = conditionRecords(ctx, p.dialysis)[0];
    if (dialysis) {
      const rate = table.rows[0]?.[1] ?? null;
      return { basis: 'dialysis', value: null, unit, date: dialysis.onset, rate, rateUnit, short: 'Dialysis or end-stage renal disease', display: `${dialysis.display} on the problem list: the table's lowest row applies` };
    }
    const egfr = readLatest(ctx, p.egfr, { maxAge: p.maxAge, unit }).value;
    const clearance = readLatest(ctx, p.clearance, { maxAge: p.maxAge, unit }).value;
    const computed = computedEgfr(ctx, p);
    // The newest wins; at one instant a reported eGFR, then a clearance, then one computed here.
    const candidates = [
      egfr && { basis: 'egfr' as const, observed: egfr, short: `eGFR ${formatNumberOf(egfr)}`, display: `eGFR ${egfr.display}` },
      clearance && { basis: 'clearance' as const, observed: clearance, short: `CrCl ${formatNumberOf(clearance)}`, display: `creatinine clearance ${clearance.display} (not normalised to body surface; read against the table as the label's clearance)` },
      computed.value && { basis: 'computed' as const, observed: computed.value, short: `computed eGFR ${formatNumberOf(computed.value)}`, display: computed.value.display },
    ].filter((c) => !!c);
    const best = candidates.sort((a, b) => Date.parse(b.observed.date) - Date.parse(a.observed.date))[0];
    if (!best) {
      const name = ctx.knowledge.valueSets.get(p.creatinine)?.title ?? p.creatinine;
      const why = computed.why ?? `no eGFR, creatinine clearance or ${name.toLowerCase()} within ${p.maxAge}, and no dialysis or end-stage renal disease on the problem list`;
      const short = computed.why ? 'no birth date to compute an eGFR from the creatinine' : `no creatinine or eGFR in ${p.maxAge}`;
      return { basis: 'none', value: null, unit, date: null, rate: null, rateUnit, short, display: why };
    }
    const value = best.observed.value as number;
    return { basis: best.basis, value, unit, date: best.observed.date, rate: tableOutput(table.rows, table.method, value), rateUnit, short: best.short, display: best.display };
  },
} satisfies FactDefinition<RenalParams>;

function formatNumberOf(v: ObservedValue): string {
  return formatQuantity(v.value as number, null);
}

/** The eGFR computed from the newest creatinine, or why it could not be. */
function computedEgfr(ctx: FactContext, p: RenalParams): { value: ObservedValue | null; why: string | null } {
  const creatinine = readLatest(ctx, p.creatinine, { maxAge: p.maxAge, unit: 'mg/dL' }).value;
  if (!creatinine || typeof creatinine.value !== 'number' || creatinine.value <= 0) return { value: null, why: null };
  const who = patientValue(ctx);
  if (who.ageYears === null) {
    return { value: null, why: `creatinine ${creatinine.display}, but no birth date on record: the eGFR could not be computed` };
  }
  const sexes: readonly ('female' | 'male')[] = who.gender === 'female' || who.gender === 'male' ? [who.gender] : ['female', 'male'];
  const age = who.ageYears;
  const egfr = Math.min(...sexes.map((sex) => ckdEpi2021(creatinine.value as number, age, sex)));
  const sexText = sexes.length === 1 ? sexes[0] : 'sex not recorded as female or male, the lower estimate';
  const display = `eGFR ${formatQuantity(egfr, 'mL/min/{1.73_m2}')} computed with CKD-EPI 2021 from creatinine ${creatinine.display} (${sexText}, ${age} y)`;
  return { value: { ...creatinine, value: egfr, unit: 'mL/min/{1.73_m2}', comparator: null, sameTime: [], display }, why: null };
}

/**
 * The race-free CKD-EPI 2021 creatinine equation (Inker LA et al., N Engl J Med 2021;385:1737-49,
 * doi:10.1056/NEJMoa2102953), in mL/min/1.73 m², rounded to a whole number as laboratories report it.
 */
export function ckdEpi2021(creatinineMgDl: number, ageYears: number, sex: 'female' | 'male'): number {
  const female = sex === 'female';
  const kappa = female ? 0.7 : 0.9;
  const alpha = female ? -0.241 : -0.302;
  const ratio = creatinineMgDl / kappa;
  return Math.round(142 * Math.min(ratio, 1) ** alpha * Math.max(ratio, 1) ** -1.2 * 0.9938 ** ageYears * (female ? 1.012 : 1));
}
