import { z } from 'zod';
import type { ObservationValue, PatientData } from '../shared/patient-data.js';
import { durationMs, durationSchema, noParams, tableParam, thresholdParam, ucumSchema, valueSetParam, type NoParams } from './params.js';
import { observationRequirement } from './requirements.js';
import type { FactContext, FactDefinition, ObservationRead, ValueSet } from './types.js';
import { codingKey, codingsOf, displayOf } from './value-sets.js';
import { clean, convert, displayUnit, formatQuantity, quantityUnit, type ConversionOptions } from './units.js';
import { listText } from './medications.js';
import { formatDateTime, formatHours, formatWindow } from './time.js';
import { date, list, number, object, oneOf, scalar, text } from './value-shape.js';

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
  /** Other values recorded at the same instant (not used), as shown: `31.8 %`. */
  sameTime: string[];
  /** `3.1 mmol/L (2026-11-20)`; with `, also 31.8 % at the same time` when there were others. */
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
  sameTime: list(text),
  display: text,
});

const unreadableValueShape = object({ name: text, date, reason: text, display: text });

/** The newest value of a set that could not be used: the checks that need it do not use an older one instead. */
export interface UnreadableValue {
  /** The value set's title: `eGFR`. */
  name: string;
  date: string;
  /** In words, without patient identifiers: `recorded in "ml/min/m2", not a unit accepted for eGFR`. */
  reason: string;
  /** `eGFR of 2026-11-21 08:00: recorded in "ml/min/m2", not a unit accepted for eGFR`. */
  display: string;
}

/** The newest value of a set: usable, or not usable and why (never an older value in its place). */
export interface Reading {
  value: ObservedValue | null;
  /** When the newest value was observed (epoch ms, as the data layer parsed it); null when there is none. */
  time: number | null;
  unreadable: UnreadableValue | null;
}

export interface LatestOptions {
  maxAge?: string | undefined;
  /** Only values observed after this time (epoch ms). */
  after?: number | undefined;
  /** Only values observed at or before this time (epoch ms), and (with `within`) no more than `within` ms before it. */
  until?: number | undefined;
  within?: number | undefined;
  /** Convert to this UCUM unit. */
  unit?: string | undefined;
}

const UNUSABLE_STATUS = new Set(['cancelled', 'entered-in-error']);
const NOTHING: Reading = { value: null, time: null, unreadable: null };

/** The newest usable value coded in the value set, within `maxAge` of `now`, in `unit`; null when none or unreadable. */
export function latestValue(ctx: FactContext, valueSetName: string, options: LatestOptions = {}): ObservedValue | null {
  return readLatest(ctx, valueSetName, options).value;
}

/**
 * The newest value coded in the value set within the window. Every value recorded at that newest instant
 * is read; one is chosen by the set's `sameTime` rule (never by the server's order) and names the others.
 * When none of them can be used (a unit the set does not accept, no value, not a number) the reading says
 * why and gives no value: an older result is not a stand-in for the one the clinician sees as newest.
 */
export function readLatest(ctx: FactContext, valueSetName: string, options: LatestOptions = {}): Reading {
  const valueSet = ctx.knowledge.valueSets.get(valueSetName);
  if (!valueSet) return NOTHING;
  const maxAgeMs = options.maxAge === undefined ? null : durationMs(options.maxAge);
  const newest: ObservationValue[] = [];
  for (const entry of ctx.memo.get(newestFirst, valueSet, ctx.data)) {
    const { time } = entry;
    if (newest.length > 0 && time < newest[0]!.time) break;
    if (maxAgeMs !== null && ctx.now.getTime() - time > maxAgeMs) break;
    if (options.after !== undefined && time <= options.after) break;
    if (options.until !== undefined && time > options.until) continue;
    if (options.until !== undefined && options.within !== undefined && options.until - time > options.within) break;
    if (UNUSABLE_STATUS.has(entry.observation?.status ?? '') || isPanel(entry)) continue;
    newest.push(entry);
  }
  if (newest.length === 0) return NOTHING;
  const conversion = conversionOptions(valueSet);
  const read = newest.map((entry) => readEntry(entry, options.unit, valueSet, conversion, whenText(entry.effective, entry.time, valueSet, ctx.timeZone)));
  const usable = read.filter((r): r is ObservedValue => !('reason' in r));
  if (usable.length === 0) {
    const first = [...(read as { reason: string; code: string }[])].sort((a, b) => a.code.localeCompare(b.code))[0]!;
    const date = newest[0]!.effective;
    // Its time identifies the record in the chart: in the hospital's time zone, as every time on a card.
    const when = date.length > 10 ? formatDateTime(newest[0]!.time, ctx.timeZone) : date;
    return { value: null, time: null, unreadable: { name: valueSet.title, date, reason: first.reason, display: `${valueSet.title} of ${when}: ${first.reason}` } };
  }
  return { value: chooseSameTime(usable, valueSet), time: newest[0]!.time, unreadable: null };
}

/** A panel's own code (a blood-pressure panel) holds no value: its components are read by their own codes. */
function isPanel(entry: ObservationValue): boolean {
  return !entry.fromComponent && !entry.valueQuantity && !entry.valueCodeableConcept && entry.valueInteger === undefined && (entry.observation?.component?.length ?? 0) > 0;
}

/**
 * One of several values recorded at one instant: a code the set prefers (race-free CKD-EPI 2021 over the
 * race-coefficient pair), else the lowest or highest value as the set says (the more cautious for its
 * checks; lowest when it says nothing), else the first code: the same answer whatever order the server sent.
 */
function chooseSameTime(values: ObservedValue[], valueSet: ValueSet): ObservedValue {
  const prefer = valueSet.sameTime?.prefer ?? [];
  const rank = (v: ObservedValue) => {
    const i = prefer.indexOf(v.code);
    return i === -1 ? prefer.length : i;
  };
  const sign = valueSet.sameTime?.choose === 'highest' ? -1 : 1;
  const byValue = (a: ObservedValue, b: ObservedValue) =>
    typeof a.value === 'number' && typeof b.value === 'number' ? sign * (a.value - b.value) : String(a.value).localeCompare(String(b.value));
  const sorted = [...values].sort((a, b) => rank(a) - rank(b) || byValue(a, b) || a.code.localeCompare(b.code));
  const chosen = sorted[0]!;
  const shown = shownValue(chosen);
  const others = [...new Set(sorted.slice(1).map(shownValue))].filter((o) => o !== shown);
  if (others.length === 0) return chosen;
  return { ...chosen, sameTime: others, display: `${chosen.display.slice(0, -1)}; also ${others.join(', ')} at the same time)` };
}

function shownValue(v: ObservedValue): string {
  return typeof v.value === 'number' ? `${v.comparator ? `${v.comparator} ` : ''}${formatQuantity(v.value, v.unit)}` : v.display.replace(/ \(.*$/, '');
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

type Unreadable = { reason: string; code: string };

/**
 * When a value was observed, as a card shows it: its date, or for a set read several times a day (vital signs,
 * `timeOfDay`) its date and time of day in the hospital's time zone ("2026-11-21 03:00 EST").
 */
function whenText(effective: string, time: number, valueSet: ValueSet | undefined, timeZone: string | undefined): string {
  return valueSet?.timeOfDay && effective.length > 10 ? formatDateTime(time, timeZone) : effective.slice(0, 10);
}

function readEntry(entry: ObservationValue, unit: string | undefined, valueSet: ValueSet, conversion: ConversionOptions, day: string): ObservedValue | Unreadable {
  const date = entry.effective;
  const reference = typeof entry.observation?.id === 'string' ? `Observation/${entry.observation.id}` : null;
  const fail = (reason: string): Unreadable => ({ reason, code: entry.code });
  const base = { date, code: entry.code, reference, sameTime: [] as string[] };
  const q = entry.valueQuantity;
  if (q && typeof q.value === 'number' && Number.isFinite(q.value)) {
    const mapped = quantityUnit(q);
    const written = typeof q.unit === 'string' ? q.unit : typeof q.code === 'string' ? q.code : null;
    const comparator = typeof q.comparator === 'string' ? q.comparator : null;
    const prefix = comparator ? `${comparator} ` : '';
    const accepted = acceptedUnit(valueSet, mapped, entry.code);
    if (accepted === undefined) {
      if (written === null) return fail('recorded without a unit');
      return fail(`recorded in "${quoted(written)}", not a unit accepted for ${valueSet.title}`);
    }
    if (unit === undefined) {
      const shownUnit = accepted ?? written;
      const display = `${prefix}${formatQuantity(q.value, shownUnit)} (${day})`;
      return { ...base, value: q.value, unit: shownUnit, comparator, display };
    }
    if (accepted === null) return fail(written === null ? 'recorded without a unit' : `recorded in "${quoted(written)}", not a unit of measure`);
    const value = convert(q.value, accepted, unit, conversion);
    if (value === null) return fail(`recorded in ${displayUnit(mapped ?? accepted)}, which cannot be read as ${displayUnit(unit)}`);
    const asRecorded = mapped === unit ? '' : `, recorded as ${formatQuantity(q.value, mapped)}`;
    const display = `${prefix}${formatQuantity(value, unit)} (${day}${asRecorded})`;
    return { ...base, value, unit, comparator, display };
  }
  // A unitless integer (an AUDIT-C total as valueInteger) is a count in whatever dimensionless unit is asked for.
  if (typeof entry.valueInteger === 'number' && Number.isFinite(entry.valueInteger) && (unit === undefined || DIMENSIONLESS.test(unit))) {
    const shown = unit === undefined || unit === '1' ? null : unit;
    return { ...base, value: entry.valueInteger, unit: unit ?? null, comparator: null, display: `${formatQuantity(entry.valueInteger, shown)} (${day})` };
  }
  const coding = codingsOf(entry.valueCodeableConcept).find((c) => codingKey(c) !== null);
  if (unit === undefined && coding) {
    const text = displayOf(coding, undefined, entry.valueCodeableConcept?.text);
    return { ...base, value: codingKey(coding) as string, unit: null, comparator: null, display: `${text} (${day})` };
  }
  return fail(missingValueReason(entry));
}

/**
 * The unit a quantity is read in under the set's `units`: the recorded UCUM unit (or its `readAs`);
 * undefined when the set does not accept it. Without `units`, any UCUM unit (null: none could be mapped).
 */
function acceptedUnit(valueSet: ValueSet, recorded: string | null, code: string): string | null | undefined {
  if (!valueSet.units) return recorded;
  if (recorded === null) return undefined;
  const entry = valueSet.units.find((u) => u.unit === recorded && (!u.codes || u.codes.has(code)));
  return entry === undefined ? undefined : (entry.readAs ?? entry.unit);
}

function missingValueReason(entry: ObservationValue): string {
  const o = (entry.fromComponent ? {} : entry.observation ?? {}) as Record<string, unknown>;
  if (entry.valueQuantity) return 'a value that is not a number';
  if (typeof o.valueString === 'string') return 'recorded as text, not a number';
  if (entry.valueCodeableConcept) return 'a coded result, not a number';
  if (o.dataAbsentReason !== undefined) return 'no value (the record says why it is absent)';
  return 'no value';
}

/** EHR unit text on a card: bounded, one line. */
function quoted(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 24 ? `${flat.slice(0, 23)}…` : flat;
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
  observes: (p, knowledge) => [{ valueSet: p.valueSet, maxAge: p.maxAge ?? (p.threshold ? knowledge.thresholds.get(p.threshold)?.maxAge : undefined) }],
  compute: (p, ctx) => {
    const threshold = p.threshold ? ctx.knowledge.thresholds.get(p.threshold) : undefined;
    return latestValue(ctx, p.valueSet, { maxAge: p.maxAge ?? threshold?.maxAge, unit: p.unit ?? threshold?.unit });
  },
  absent: (p, ctx) => {
    const threshold = p.threshold ? ctx.knowledge.thresholds.get(p.threshold) : undefined;
    return missingText(ctx, p.valueSet, { maxAge: p.maxAge ?? threshold?.maxAge, unit: p.unit ?? threshold?.unit });
  },
} satisfies FactDefinition<z.infer<typeof latestObservationParams>>;

/**
 * Why there is no value within the window, as a card says it: the newest one is too old ("3.3 mmol/L on
 * 2026-11-21, 15 days ago — older than 72 h"), could not be used, or there is none on record. Never
 * "unknown" for a value the chart holds.
 */
export function missingText(ctx: FactContext, valueSetName: string, options: { maxAge?: string | undefined; unit?: string | undefined }): string {
  const within = readLatest(ctx, valueSetName, options);
  if (within.unreadable) return `the newest could not be used (${within.unreadable.display})`;
  const last = options.maxAge === undefined ? NOTHING : readLatest(ctx, valueSetName, { unit: options.unit });
  if (last.value === null || last.time === null) return last.unreadable ? `none usable (${last.unreadable.display})` : 'none on record';
  const age = formatHours((ctx.now.getTime() - last.time) / 3_600_000);
  const when = whenText(last.value.date, last.time, ctx.knowledge.valueSets.get(valueSetName), ctx.timeZone);
  return `${shownValue(last.value)} on ${when}, ${age} ago — older than ${formatWindow(options.maxAge!)}`;
}

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
  observes: (p) => [p.observation],
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
 * The newest values the hook's rules would read that cannot be used (ctx.observed: each value set with the
 * longest age a rule reads it at), one per observation. Reads only the data fetched for the hook's rules.
 */
export const unreadableObservations = {
  params: noParams,
  refs: () => [],
  requirements: () => [],
  value: object({ items: list(unreadableValueShape), names: text, display: text }),
  compute: (_p, ctx): UnreadableList => {
    const found = new Map<string, UnreadableValue>();
    for (const read of ctx.observed ?? []) {
      const { unreadable } = readLatest(ctx, read.valueSet, { maxAge: read.maxAge });
      if (unreadable) found.set(`${unreadable.name}\u0000${unreadable.date}`, unreadable);
    }
    const items = [...found.values()].sort((a, b) => a.name.localeCompare(b.name) || b.date.localeCompare(a.date));
    return { items, names: listText([...new Set(items.map((i) => i.name))]), display: items.length === 0 ? 'none' : items.map((i) => i.display).join('; ') };
  },
} satisfies FactDefinition<NoParams>;

export interface UnreadableList {
  items: UnreadableValue[];
  /** `eGFR and Potassium`. */
  names: string;
  display: string;
}

/** The value sets a hook's rules read, each once with the longest age any of them reads it at. */
export function mergeObservationReads(reads: readonly ObservationRead[]): ObservationRead[] {
  const byName = new Map<string, ObservationRead>();
  const age = (r: ObservationRead) => (r.maxAge === undefined ? Infinity : (durationMs(r.maxAge) ?? Infinity));
  for (const read of reads) {
    const known = byName.get(read.valueSet);
    if (known === undefined || age(read) > age(known)) byName.set(read.valueSet, read);
  }
  return [...byName.values()];
}

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
