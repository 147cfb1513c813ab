import { z } from 'zod';
import type { ObservationValue, PatientData } from '../shared/patient-data.js';
import { durationMs, durationSchema, tableParam, thresholdParam, ucumSchema, valueSetParam } from './params.js';
import { observationRequirement } from './requirements.js';
import type { FactContext, FactDefinition, ValueSet } from './types.js';
import { codingKey, codingsOf, displayOf } from './value-sets.js';
import { clean, convert, formatQuantity, quantityUnit, type ConversionOptions } from './units.js';
import { date, number, object, oneOf, scalar, text } from './value-shape.js';

/** One observed value as facts return it. `value` is a number, or `system|code` for a coded result. */
export interface ObservedValue {
  value: number | string;
  /** The unit asked for; else the recorded unit as UCUM, or as written when it is not UCUM; null for coded values. */
  unit: string | null;
  /** `<`, `>`, ... when the lab reported a bound rather than a value. */
  comparator: string | null;
  /** When it was observed (ISO). */
  date: string;
  /** `system|code` the value was recorded under. */
  code: string;
  reference: string | null;
  /** `3.1 mmol/L (2026-11-20)`. */
  display: string;
}

/** FHIR Quantity.comparator. */
const COMPARATORS = ['<', '<=', '>=', '>', 'ad'];

export const observedValueShape = object({
  value: scalar,
  unit: text,
  comparator: oneOf('FHIR Quantity.comparator', COMPARATORS),
  date,
  code: text,
  reference: text,
  display: text,
});

export interface LatestOptions {
  maxAge?: string | undefined;
  /** Only values observed after this time (epoch ms). */
  after?: number | undefined;
  /** Only values observed at or before this time (epoch ms), and (with `within`) no more than `within` ms before it. */
  until?: number | undefined;
  within?: number | undefined;
  /** Convert to this UCUM unit; values that cannot be converted are skipped. */
  unit?: string | undefined;
}

const UNUSABLE_STATUS = new Set(['cancelled', 'entered-in-error']);

/** The newest usable value coded in the value set, within `maxAge` of `now`, in `unit`; null when none. */
export function latestValue(ctx: FactContext, valueSetName: string, options: LatestOptions = {}): ObservedValue | null {
  return latestObserved(ctx, valueSetName, options)?.value ?? null;
}

/** `latestValue` with its time (epoch ms) as the data layer parsed it, for facts that compute with it. */
export function latestObserved(ctx: FactContext, valueSetName: string, options: LatestOptions = {}): { value: ObservedValue; time: number } | null {
  const valueSet = ctx.knowledge.valueSets.get(valueSetName);
  if (!valueSet) return null;
  const maxAgeMs = options.maxAge === undefined ? null : durationMs(options.maxAge);
  const conversion = conversionOptions(valueSet);
  for (const entry of ctx.memo.get(newestFirst, valueSet, ctx.data)) {
    const { time } = entry;
    if (maxAgeMs !== null && ctx.now.getTime() - time > maxAgeMs) break;
    if (options.after !== undefined && time <= options.after) break;
    if (options.until !== undefined && time > options.until) continue;
    if (options.until !== undefined && options.within !== undefined && options.until - time > options.within) break;
    if (UNUSABLE_STATUS.has(entry.observation?.status ?? '')) continue;
    const value = usableValue(entry, options.unit, conversion);
    if (value) return { value, time };
  }
  return null;
}

/**
 * The value set's observations, newest first. The data layer has parsed each date once and ordered
 * each code's list; only the codes' lists are merged here. Several facts read the same value set (with
 * other units, ages or thresholds) in one call, so `latestValue` keeps the list on the call's memo.
 */
function newestFirst(valueSet: ValueSet, data: PatientData): readonly ObservationValue[] {
  const list: ObservationValue[] = [];
  for (const key of valueSet.codes.keys()) {
    for (const entry of data.observationsByCode.get(key) ?? []) if (Number.isFinite(entry.time)) list.push(entry);
  }
  return list.sort((a, b) => b.time - a.time);
}

/** UCUM units without dimension: `1` or an annotation alone (`{score}`). */
const DIMENSIONLESS = /^(1|\{[^{}]*\})$/;

function usableValue(entry: ObservationValue, unit: string | undefined, conversion: ConversionOptions): ObservedValue | null {
  const date = entry.effective;
  const day = date.slice(0, 10);
  const reference = typeof entry.observation?.id === 'string' ? `Observation/${entry.observation.id}` : null;
  const q = entry.valueQuantity;
  if (q && typeof q.value === 'number' && Number.isFinite(q.value)) {
    const recorded = quantityUnit(q);
    const comparator = typeof q.comparator === 'string' ? q.comparator : null;
    const prefix = comparator ? `${comparator} ` : '';
    if (unit === undefined) {
      const shownUnit = recorded ?? (typeof q.unit === 'string' ? q.unit : null);
      const display = `${prefix}${formatQuantity(q.value, shownUnit)} (${day})`;
      return { value: q.value, unit: shownUnit, comparator, date, code: entry.code, reference, display };
    }
    if (recorded === null) return null;
    const value = convert(q.value, recorded, unit, conversion);
    if (value === null) return null;
    const asRecorded = recorded === unit ? '' : `, recorded as ${formatQuantity(q.value, recorded)}`;
    const display = `${prefix}${formatQuantity(value, unit)} (${day}${asRecorded})`;
    return { value, unit, comparator, date, code: entry.code, reference, display };
  }
  // A unitless integer (an AUDIT-C total as valueInteger) is a count in whatever dimensionless unit is asked for.
  if (typeof entry.valueInteger === 'number' && Number.isFinite(entry.valueInteger) && (unit === undefined || DIMENSIONLESS.test(unit))) {
    const shown = unit === undefined || unit === '1' ? null : unit;
    return { value: entry.valueInteger, unit: unit ?? null, comparator: null, date, code: entry.code, reference, display: `${formatQuantity(entry.valueInteger, shown)} (${day})` };
  }
  const coding = codingsOf(entry.valueCodeableConcept).find((c) => codingKey(c) !== null);
  if (unit === undefined && coding) {
    const text = displayOf(coding, undefined, entry.valueCodeableConcept?.text);
    return { value: codingKey(coding) as string, unit: null, comparator: null, date, code: entry.code, reference, display: `${text} (${day})` };
  }
  return null;
}

function conversionOptions(valueSet: ValueSet): ConversionOptions {
  const options: ConversionOptions = {};
  if (valueSet.molarMass) {
    const gPerMol = convert(valueSet.molarMass.value, valueSet.molarMass.unit, 'g/mol');
    if (gPerMol !== null) options.molarMass = gPerMol;
  }
  if (valueSet.charge !== undefined) options.charge = valueSet.charge;
  return options;
}

const latestObservationParams = z.strictObject({
  valueSet: valueSetParam,
  maxAge: durationSchema.optional(),
  unit: ucumSchema.optional(),
  threshold: thresholdParam.optional(),
});

export const latestObservation = {
  params: latestObservationParams,
  refs: (p) => [
    { kind: 'valueSet', name: p.valueSet },
    ...(p.threshold ? [{ kind: 'threshold' as const, name: p.threshold }] : []),
  ],
  requirements: (p, knowledge) => observationRequirement(p.valueSet, knowledge),
  value: observedValueShape,
  compute: (p, ctx) => {
    const threshold = p.threshold ? ctx.knowledge.thresholds.get(p.threshold) : undefined;
    return latestValue(ctx, p.valueSet, { maxAge: p.maxAge ?? threshold?.maxAge, unit: p.unit ?? threshold?.unit });
  },
} satisfies FactDefinition<z.infer<typeof latestObservationParams>>;

const lookupParams = z.strictObject({
  table: tableParam,
  observation: z.strictObject({ valueSet: valueSetParam, maxAge: durationSchema }),
});

export interface LookupResult {
  input: { value: number; unit: string; date: string; display: string };
  output: number;
  outputUnit: string;
  display: string;
}

export const lookup = {
  params: lookupParams,
  refs: (p) => [
    { kind: 'table', name: p.table },
    { kind: 'valueSet', name: p.observation.valueSet },
  ],
  requirements: (p, knowledge) => observationRequirement(p.observation.valueSet, knowledge),
  value: object({
    input: object({ value: number, unit: text, date, display: text }),
    output: number,
    outputUnit: text,
    display: text,
  }),
  compute: (p, ctx): LookupResult | null => {
    const table = ctx.knowledge.tables.get(p.table);
    if (!table) return null;
    const observed = latestValue(ctx, p.observation.valueSet, { maxAge: p.observation.maxAge, unit: table.input.unit });
    if (!observed || typeof observed.value !== 'number') return null;
    const output = tableOutput(table.rows, table.method, observed.value);
    if (output === null) return null;
    return {
      input: { value: observed.value, unit: table.input.unit, date: observed.date, display: observed.display },
      output,
      outputUnit: table.output.unit,
      display: `${formatQuantity(output, table.output.unit)} (for ${observed.display})`,
    };
  },
} satisfies FactDefinition<z.infer<typeof lookupParams>>;

/**
 * `floor`: the row at or below the input, the first row below the table's range. `interpolate`: linear
 * between the rows around the input, the first row's output below the range. Above the last row: null.
 */
export function tableOutput(rows: readonly (readonly [number, number])[], method: 'floor' | 'interpolate', input: number): number | null {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (!first || !last || input > last[0]) return null;
  if (input <= first[0]) return first[1];
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i] as readonly [number, number];
    if (row[0] > input) continue;
    if (method === 'floor' || row[0] === input) return row[1];
    const next = rows[i + 1] as readonly [number, number];
    return clean(row[1] + ((input - row[0]) * (next[1] - row[1])) / (next[0] - row[0]));
  }
  return null;
}
