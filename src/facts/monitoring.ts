import { z } from 'zod';
import { durationMs, durationSchema, ucumSchema, valueSetParam } from './params.js';
import { MEDICATIONS_REQUIREMENT, mergeRequirements, observationRequirement } from './requirements.js';
import type { FactDefinition } from './types.js';
import { identifyDrug, isInotrope, listText } from './medications.js';
import { readLatest, observedValueShape, type ObservedValue } from './observations.js';
import { list, number, object, oneOf, text } from './value-shape.js';
import { formatHours, formatWindow } from './time.js';

/**
 * A monitoring schedule while an inotrope runs (MON-OVERDUE), or the baseline before one starts (MON-BASELINE-LABS):
 * which observations are older than their interval. The intervals live in the rule file, one item per value set.
 */

const overdueParams = z.strictObject({
  drugOrders: z
    .enum(['running', 'ordered'])
    .optional()
    .describe('Which orders an item\'s `drugs` look at: "running" (default), the active orders; "ordered", the drafts being ordered too (a baseline before the first dose).'),
  items: z
    .array(
      z.strictObject({
        valueSet: valueSetParam,
        every: durationSchema.describe('Due again this long after the last result, e.g. "24h".'),
        unit: ucumSchema.optional().describe('Read the result in this unit (results that cannot be converted do not count).'),
        drugs: z.array(valueSetParam).min(1).optional().describe('Only while one of these inotropes runs, or is ordered with drugOrders "ordered" (value-set names); default any.'),
      }),
    )
    .min(1),
});
type OverdueParams = z.infer<typeof overdueParams>;

export interface OverdueItem {
  valueSet: string;
  name: string;
  every: string;
  /** The newest usable result at any age, or null when there is none. */
  last: ObservedValue | null;
  /** Whole hours since `last`, or null. */
  ageHours: number | null;
  /** `Potassium: last 3.9 mmol/L (2026-11-20), 30 h ago (due every 24 h)`; `… 6 days ago` beyond two days. */
  display: string;
}

export interface OverdueValue {
  /** The overdue observations, in the order the rule lists them; empty when all are current. */
  items: OverdueItem[];
  /** `Potassium, Magnesium and Body weight`. */
  names: string;
  display: string;
}

export const overdueObservations = {
  params: overdueParams,
  refs: (p, settings) => [
    ...settings.inotropes.map((name) => ({ kind: 'valueSet' as const, name })),
    ...p.items.flatMap((i) => [i.valueSet, ...(i.drugs ?? [])].map((name) => ({ kind: 'valueSet' as const, name }))),
  ],
  requirements: (p, knowledge) => mergeRequirements([MEDICATIONS_REQUIREMENT], ...p.items.map((i) => observationRequirement(i.valueSet, knowledge))),
  settings: ['inotropes'],
  value: object({
    items: list(
      object({
        valueSet: oneOf('the params\' items', (_k, p: OverdueParams) => p.items.map((i) => i.valueSet)),
        name: text,
        every: text,
        last: observedValueShape,
        ageHours: number,
        display: text,
      }),
    ),
    names: text,
    display: text,
  }),
  compute: (p, ctx): OverdueValue => {
    const { knowledge, memo } = ctx;
    const ordered = new Set(
      ctx.data.medicationOrders
        .filter((o) => (p.drugOrders === 'ordered' || o.origin === 'active') && isInotrope(o, knowledge, memo))
        .map((o) => identifyDrug(o, knowledge, memo).drug),
    );
    const items: OverdueItem[] = [];
    for (const item of p.items) {
      if (item.drugs && !item.drugs.some((d) => ordered.has(d))) continue;
      const { value: last, time, unreadable } = readLatest(ctx, item.valueSet, { unit: item.unit });
      const ageMs = time === null ? null : ctx.now.getTime() - time;
      if (ageMs !== null && ageMs <= (durationMs(item.every) ?? 0)) continue;
      const ageHours = ageMs === null ? null : Math.floor(ageMs / 3_600_000);
      const name = knowledge.valueSets.get(item.valueSet)?.title ?? item.valueSet;
      const lastText = last !== null && ageHours !== null ? `last ${last.display}, ${formatHours(ageHours)} ago` : unreadable ? `the newest result could not be used (${unreadable.display})` : 'none on record';
      items.push({ valueSet: item.valueSet, name, every: item.every, last, ageHours, display: `${name}: ${lastText} (due every ${formatWindow(item.every)})` });
    }
    const names = listText(items.map((i) => i.name));
    return { items, names, display: items.length === 0 ? 'none' : items.map((i) => i.display).join('; ') };
  },
} satisfies FactDefinition<OverdueParams>;
