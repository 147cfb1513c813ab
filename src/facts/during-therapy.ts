import { z } from 'zod';
import type { MedicationOrder } from '../shared/patient-data.js';
import { administrationsOf } from './administrations.js';
import { durationMs, durationSchema, ucumSchema, valueSetParam } from './params.js';
import { ADMINISTRATIONS_REQUIREMENT, CONDITIONS_REQUIREMENT, MEDICATIONS_REQUIREMENT, mergeRequirements, observationRequirement } from './requirements.js';
import type { FactContext, FactDefinition } from './types.js';
import { latestValue, type ObservedValue } from './observations.js';
import { clean, formatQuantity } from './units.js';
import { timeOf } from './time.js';
import { conditionRecords, type ConditionRecord } from './clinical-records.js';
import { observedValueShape } from './observations.js';
import { conditionShape } from './clinical-records.js';
import { date, number, object, text } from './value-shape.js';

/**
 * What changed since the subject infusion started (order scope): a value against its baseline before the
 * start, and diagnoses recorded after it. The start is the earliest administration recorded for the order,
 * else the order's authoredOn.
 */

/** When the subject order's infusion started (epoch ms), or null when neither is known. */
export function infusionStart(order: MedicationOrder, ctx: FactContext): number | null {
  const starts = administrationsOf(order, ctx.data, ctx.knowledge, ctx.memo)
    .map((a) => timeOf(a.effectivePeriod?.start ?? a.effectiveDateTime))
    .filter((t): t is number => t !== null);
  return starts.length > 0 ? Math.min(...starts) : timeOf(order.request?.authoredOn);
}

const changeParams = z.strictObject({
  valueSet: valueSetParam,
  unit: ucumSchema,
  baselineWithin: durationSchema.describe('How long before the start a result still counts as the baseline, e.g. "72h".'),
  maxAge: durationSchema.describe('The latest result after the start counts only when this recent, e.g. "24h".'),
});
type ChangeParams = z.infer<typeof changeParams>;

export interface ChangeValue {
  start: string;
  baseline: ObservedValue;
  latest: ObservedValue;
  /** latest − baseline, in `unit`. */
  change: number;
  /** Change as a percentage of the baseline (−50 = halved); null for a zero baseline. */
  percent: number | null;
  display: string;
}

export const changeSinceStart = {
  params: changeParams,
  scope: 'order',
  refs: (p) => [{ kind: 'valueSet', name: p.valueSet }],
  requirements: (p, knowledge) => mergeRequirements([MEDICATIONS_REQUIREMENT, ADMINISTRATIONS_REQUIREMENT], observationRequirement(p.valueSet, knowledge)),
  value: object({ start: date, baseline: observedValueShape, latest: observedValueShape, change: number, percent: number, display: text }),
  observes: (p) => [{ valueSet: p.valueSet, maxAge: p.maxAge }],
  compute: (p, ctx): ChangeValue | null => {
    if (!ctx.subject || ctx.subject.origin !== 'active') return null;
    const start = infusionStart(ctx.subject, ctx);
    if (start === null) return null;
    const latest = latestValue(ctx, p.valueSet, { unit: p.unit, maxAge: p.maxAge, after: start });
    const baseline = latestValue(ctx, p.valueSet, { unit: p.unit, until: start, within: durationMs(p.baselineWithin) ?? 0 });
    if (!latest || !baseline || typeof latest.value !== 'number' || typeof baseline.value !== 'number') return null;
    const change = clean(latest.value - baseline.value);
    const percent = baseline.value === 0 ? null : clean(Math.round((change / baseline.value) * 1000) / 10);
    const sign = change > 0 ? '+' : '';
    return {
      start: new Date(start).toISOString(),
      baseline,
      latest,
      change,
      percent,
      display: `${latest.display}, ${sign}${formatQuantity(change, p.unit)} from ${baseline.display} before the start`,
    };
  },
} satisfies FactDefinition<ChangeParams>;

const sinceParams = z.strictObject({ valueSets: z.array(valueSetParam).min(1) });

/** Current conditions in any of the value sets whose onset is after the subject infusion started (no onset: not counted). */
export const conditionsSinceStart = {
  params: sinceParams,
  scope: 'order',
  refs: (p) => p.valueSets.map((name) => ({ kind: 'valueSet' as const, name })),
  requirements: () => [MEDICATIONS_REQUIREMENT, ADMINISTRATIONS_REQUIREMENT, CONDITIONS_REQUIREMENT],
  value: conditionShape,
  compute: (p, ctx): ConditionRecord[] => {
    if (!ctx.subject || ctx.subject.origin !== 'active') return [];
    const start = infusionStart(ctx.subject, ctx);
    if (start === null) return [];
    return p.valueSets.flatMap((name) => conditionRecords(ctx, name)).filter((c) => {
      const at = timeOf(c.onset);
      return at !== null && at > start;
    });
  },
} satisfies FactDefinition<z.infer<typeof sinceParams>>;
