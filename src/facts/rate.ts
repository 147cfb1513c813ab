import type { Dosage, Medication, MedicationRequest, Quantity, Ratio } from '@medplum/fhirtypes';
import type { MedicationOrder } from '../shared/patient-data.js';
import type { ValueSet } from './types.js';
import { codingKey, codingsOf, matchCoding } from './value-sets.js';
import { clean, convert, formatQuantity, parseableUnit, quantityUnit } from './units.js';
import { timeOf } from './time.js';

/**
 * Dose and rate normalisation for infusion orders (FDA labels and FHIR R4 Dosage; docs/references.md): one drip can be written as
 * 4 ug/kg/min, 200 ug/min or 7.5 mL/h, as a rateQuantity, a rateRatio or a rateRange. Everything becomes
 * ug/kg/min (rates) or ug/kg (doses) with the body weight and the concentration.
 */

export const DOSE_STATUSES = ['ok', 'no-rate', 'no-dose', 'no-weight', 'no-concentration', 'unsupported-unit'] as const;
export type DoseStatus = (typeof DOSE_STATUSES)[number];

export interface NormalisedDose {
  value: number;
  unit: 'ug/kg/min' | 'ug/kg';
  /** `4 mcg/kg/min (7.5 mL/h at 1600 mcg/mL, 50 kg)`. */
  display: string;
  /** The dose or rate as the order states it: `7.5 mL/h`. */
  from: string;
  /** The UCUM unit the order states it in (`mL/h`, `ug/min`, `ug/kg/min`). */
  orderedUnit: string;
}

export interface DoseResult {
  value: NormalisedDose | null;
  status: DoseStatus;
  /** The dose or rate as the order states it, when it states one (`7.5 mL/h`). */
  from?: string;
}

interface Stated {
  value: number;
  unit: string | null;
  from: string;
  preference: number;
}

type Kind = 'rate' | 'dose';

const TARGET = {
  rate: { perKg: 'ug/kg/min', mass: 'ug/min', volume: 'mL/min' },
  dose: { perKg: 'ug/kg', mass: 'ug', volume: 'mL' },
} as const;

// A drop's volume depends on the giving set (10 to 60 drops/mL); UCUM's [drp] = 1/20 mL is a convention
// that would silently misstate a dose, so rates and doses in drops are not converted.
const DROPS = /\[drp\]|\{drop/;

const DOSE_RATE_TYPE = 'http://terminology.hl7.org/CodeSystem/dose-rate-type';

/**
 * A dose check's outcome as a card says it: the dose checked, or in words why it could not be
 * (never the status code): "7.5 mL/h ordered, no concentration on the order or its product".
 */
export function doseCheckText(kind: Kind, result: DoseResult): string {
  const why: Record<Exclude<DoseStatus, 'ok'>, string> = {
    'no-rate': 'no infusion rate on the order',
    'no-dose': 'none ordered',
    'no-weight': 'no current body weight to convert it to mcg/kg',
    'no-concentration': 'no concentration on the order or its product',
    'unsupported-unit': 'a unit that cannot be converted to mcg/kg',
  };
  if (result.status === 'ok') return result.value?.display ?? 'checked';
  if (result.status === 'no-rate' || result.status === 'no-dose') return why[result.status];
  const ordered = result.from === undefined ? `${kind === 'rate' ? 'rate' : 'dose'} ordered` : `${result.from} ordered`;
  return `${ordered}, ${why[result.status]}`;
}

/** The order's rate in ug/kg/min, or why there is none. */
export function normaliseRate(order: MedicationOrder, weightKg: number | null, concentration: number | null): DoseResult {
  return normalise('rate', statedRates(order.request), weightKg, concentration);
}

/** The order's bolus (doseQuantity) in ug/kg, or why there is none. */
export function normaliseDose(order: MedicationOrder, weightKg: number | null, concentration: number | null): DoseResult {
  return normalise('dose', statedDoses(order.request), weightKg, concentration);
}

function normalise(kind: Kind, stated: Stated[], weightKg: number | null, concentration: number | null): DoseResult {
  if (stated.length === 0) return { value: null, status: kind === 'rate' ? 'no-rate' : 'no-dose' };
  const ordered = [...stated].sort((a, b) => a.preference - b.preference);
  const results = ordered.map((s) => toPerKg(kind, s, weightKg, concentration));
  return results.find((r) => r.status === 'ok') ?? (results[0] as DoseResult);
}

function toPerKg(kind: Kind, stated: Stated, weightKg: number | null, concentration: number | null): DoseResult {
  const target = TARGET[kind];
  const fail = (status: DoseStatus): DoseResult => ({ value: null, status, from: stated.from });
  const done = (value: number, via: string): DoseResult => {
    const shown = formatQuantity(value, target.perKg);
    const display = via === '' ? shown : `${shown} (${via})`;
    return { value: { value: clean(value), unit: target.perKg, display, from: stated.from, orderedUnit: stated.unit ?? '' }, status: 'ok' };
  };
  const { value, unit } = stated;
  if (unit === null || DROPS.test(unit)) return fail('unsupported-unit');
  const perBody = perBodyMass(unit);
  if (perBody) {
    const amount = convert(value, perBody.rest, target.mass);
    const kg = convert(1, perBody.bodyMass, 'kg');
    if (amount === null || kg === null || kg === 0) return fail('unsupported-unit');
    return done(amount / kg, unit === target.perKg ? '' : stated.from);
  }
  const mass = convert(value, unit, target.mass);
  if (mass !== null) {
    if (weightKg === null) return fail('no-weight');
    return done(mass / weightKg, `${stated.from}, ${formatQuantity(weightKg, 'kg')}`);
  }
  const volume = convert(value, unit, target.volume);
  if (volume !== null) {
    if (concentration === null) return fail('no-concentration');
    if (weightKg === null) return fail('no-weight');
    const via = `${stated.from} at ${formatQuantity(concentration, 'ug/mL')}, ${formatQuantity(weightKg, 'kg')}`;
    return done((volume * concentration) / weightKg, via);
  }
  return fail('unsupported-unit');
}

/**
 * Splits a weight-based unit (`ug/kg/min`, `mg/kg/h`, `ug/min/kg`, `ug/kg`) into the body-mass term and
 * the rest. Dimensional analysis alone cannot do this: ug/kg/min and {drop}/min have the same dimension.
 */
export function perBodyMass(unit: string): { bodyMass: string; rest: string } | null {
  if (unit.includes('(') || !parseableUnit(unit)) return null;
  const [numerator, ...denominators] = unit.split('/');
  if (numerator === undefined || numerator === '') return null;
  const index = denominators.findIndex((d) => convert(1, d, 'kg') !== null);
  if (index < 0) return null;
  const rest = [numerator, ...denominators.filter((_, i) => i !== index)].join('/');
  return { bodyMass: denominators[index] as string, rest };
}

function dosagesOf(request: MedicationRequest | undefined): Dosage[] {
  const dosages = request?.dosageInstruction;
  return Array.isArray(dosages) ? dosages.filter((d) => typeof d === 'object' && d !== null) : [];
}

function entriesOf(request: MedicationRequest | undefined): NonNullable<Dosage['doseAndRate']> {
  return dosagesOf(request).flatMap((d) =>
    Array.isArray(d.doseAndRate) ? d.doseAndRate.filter((e) => typeof e === 'object' && e !== null) : [],
  );
}

function quantity(q: Quantity | undefined): { value: number; unit: string | null } | null {
  if (!q || typeof q.value !== 'number' || !Number.isFinite(q.value)) return null;
  return { value: q.value, unit: quantityUnit(q) };
}

function statedText(value: number, unit: string | null, raw: Quantity | undefined): string {
  return formatQuantity(value, unit ?? (typeof raw?.unit === 'string' ? raw.unit : null));
}

/** A ratio (numerator dose, denominator time) as one quantity: 0.5 ug/kg per 1 min → 0.5 ug/kg/min. */
function ratio(r: Ratio | undefined): { value: number; unit: string | null; text: string } | null {
  const numerator = quantity(r?.numerator);
  if (!numerator) return null;
  const denominator = r?.denominator;
  const per = typeof denominator?.value === 'number' ? denominator.value : 1;
  const perUnit = quantityUnit(denominator);
  if (per === 0 || !Number.isFinite(per)) return null;
  const unit = numerator.unit && perUnit ? `${numerator.unit}/${perUnit}` : null;
  const text = `${statedText(numerator.value, numerator.unit, r?.numerator)} per ${statedText(per, perUnit, denominator)}`;
  return { value: numerator.value / per, unit, text };
}

/** Lower is preferred: an `ordered` entry first, then a weight-based one. */
function preference(entry: NonNullable<Dosage['doseAndRate']>[number], unit: string | null): number {
  const ordered = codingsOf(entry.type).some((c) => c.code === 'ordered' && (c.system === undefined || c.system === DOSE_RATE_TYPE));
  const weightBased = unit !== null && perBodyMass(unit) !== null;
  return (ordered ? 0 : 2) + (weightBased ? 0 : 1);
}

function statedRates(request: MedicationRequest | undefined): Stated[] {
  return entriesOf(request).flatMap((entry): Stated[] => {
    const q = quantity(entry.rateQuantity);
    if (q) return [{ ...q, from: statedText(q.value, q.unit, entry.rateQuantity), preference: preference(entry, q.unit) }];
    const r = ratio(entry.rateRatio);
    if (r) return [{ value: r.value, unit: r.unit, from: r.text, preference: preference(entry, r.unit) }];
    // A titration range is checked at its top; a range with only a low end, at that.
    const high = quantity(entry.rateRange?.high);
    const rangeEnd = high ? entry.rateRange?.high : entry.rateRange?.low;
    const range = high ?? quantity(rangeEnd);
    if (range) {
      const from = `${statedText(range.value, range.unit, rangeEnd)} (${high ? 'top' : 'bottom'} of the ordered range)`;
      return [{ ...range, from, preference: preference(entry, range.unit) }];
    }
    return [];
  });
}

/** How the order states its rate: weight-based (per kg), as a pump rate (a volume per time), or both. */
export function statedRateForms(order: MedicationOrder): { weightBased: string | null; pump: string | null } {
  const stated = statedRates(order.request);
  const weightBased = stated.find((s) => s.unit !== null && perBodyMass(s.unit) !== null);
  const pump = stated.find((s) => s.unit !== null && !DROPS.test(s.unit) && convert(s.value, s.unit, 'mL/h') !== null);
  return { weightBased: weightBased?.from ?? null, pump: pump?.from ?? null };
}

/**
 * The rate as the order states it (its preferred entry: `12.6 mL/h`) and whether any of its rates is in the standard
 * dosing unit of both labels and of the ASHP Standardize 4 Safety adult infusion standards, mcg/kg/min (`ug/min/kg`
 * counts; `mg/kg/h`, `ug/min` or a pump rate in mL/h do not). Null when no rate is stated.
 */
export function orderedRate(order: MedicationOrder): { text: string; standardUnit: boolean } | null {
  const stated = statedRates(order.request);
  const [first] = [...stated].sort((a, b) => a.preference - b.preference);
  if (first === undefined) return null;
  return { text: first.from, standardUnit: stated.some((s) => s.unit !== null && isStandardRateUnit(s.unit)) };
}

function isStandardRateUnit(unit: string): boolean {
  const perBody = perBodyMass(unit);
  const same = (a: number | null) => a !== null && Math.abs(a - 1) < 1e-9;
  return perBody !== null && same(convert(1, perBody.rest, 'ug/min')) && same(convert(1, perBody.bodyMass, 'kg'));
}

/** The bolus as the order states it (`250 mg`), whether or not it can be put per kg; null when none is ordered. */
export function orderedDose(request: MedicationRequest | undefined): string | null {
  const [first] = statedDoses(request).sort((a, b) => a.preference - b.preference);
  return first?.from ?? null;
}

function statedDoses(request: MedicationRequest | undefined): Stated[] {
  return entriesOf(request).flatMap((entry): Stated[] => {
    const raw = entry.doseQuantity ?? entry.doseRange?.high ?? entry.doseRange?.low;
    const q = quantity(raw);
    if (!q) return [];
    // Beside a rate, a dose that is not per kg is the amount being infused (a 20 mg bag), not a bolus.
    const besideRate = entry.rateQuantity !== undefined || entry.rateRatio !== undefined || entry.rateRange !== undefined;
    if (besideRate && (q.unit === null || perBodyMass(q.unit) === null)) return [];
    return [{ ...q, from: statedText(q.value, q.unit, raw), preference: preference(entry, q.unit) }];
  });
}

/**
 * The drug concentration in ug/mL: from the order's Medication (the strength of the ingredient in the drug's
 * value set, or of its one and only ingredient), else from a product code's `concentration` in the value set.
 * Never from another ingredient: a diluent's strength (dextrose 50 mg/mL) would misstate the dose.
 */
export function concentrationOf(order: MedicationOrder, valueSet: ValueSet | undefined): number | null {
  const medication = order.medication ?? containedMedication(order.request);
  const ingredients = Array.isArray(medication?.ingredient)
    ? medication.ingredient.filter((i) => typeof i === 'object' && i !== null && i.isActive !== false)
    : [];
  const drugIngredient = ingredients.find((i) => matchCoding(valueSet, codingsOf(i.itemCodeableConcept)) !== null);
  const ingredient = drugIngredient ?? (ingredients.length === 1 ? ingredients[0] : undefined);
  const fromIngredient = strength(ingredient?.strength);
  if (fromIngredient !== null) return fromIngredient;
  if (!valueSet) return null;
  for (const coding of order.codings ?? []) {
    const key = codingKey(coding);
    const concentration = key === null ? undefined : valueSet.codes.get(key)?.concentration;
    const ugPerMl = concentration ? convert(concentration.value, concentration.unit, 'ug/mL') : null;
    if (ugPerMl !== null && ugPerMl > 0) return ugPerMl;
  }
  return null;
}

function strength(r: Ratio | undefined): number | null {
  const numerator = quantity(r?.numerator);
  const denominator = quantity(r?.denominator) ?? (r?.denominator === undefined ? null : { value: 1, unit: quantityUnit(r.denominator) });
  if (!numerator?.unit || !denominator?.unit) return null;
  const ug = convert(numerator.value, numerator.unit, 'ug');
  const ml = convert(denominator.value, denominator.unit, 'mL');
  return ug !== null && ml !== null && ml > 0 && ug > 0 ? clean(ug / ml) : null;
}

function containedMedication(request: MedicationRequest | undefined): Medication | undefined {
  const ref = request?.medicationReference?.reference;
  if (typeof ref !== 'string' || !ref.startsWith('#') || !Array.isArray(request?.contained)) return undefined;
  return request.contained.find((r): r is Medication => r?.resourceType === 'Medication' && r.id === ref.slice(1));
}

const SESSION_PERIODS = new Set(['d', 'wk', 'mo']);

/**
 * An intermittent regimen, not one continuous infusion: sessions of a set length repeated every day, week or
 * month (6 h once a week), anything repeated every week or month, or sessions on named days of the week.
 */
export function isIntermittent(request: MedicationRequest | undefined): boolean {
  return dosagesOf(request).some((d) => {
    const repeat = d.timing?.repeat;
    if (typeof repeat?.period !== 'number') return Array.isArray(repeat?.dayOfWeek) && repeat.dayOfWeek.length > 0;
    const unit = repeat.periodUnit ?? '';
    return (typeof repeat.duration === 'number' && SESSION_PERIODS.has(unit)) || LONG_PERIODS.has(unit) || (Array.isArray(repeat.dayOfWeek) && repeat.dayOfWeek.length > 0);
  });
}

// A continuous infusion is never repeated weekly or monthly.
const LONG_PERIODS = new Set(['wk', 'mo']);

/** Ordered duration in hours from timing.repeat.boundsDuration or a closed boundsPeriod. */
export function durationHours(request: MedicationRequest | undefined): number | null {
  for (const dosage of dosagesOf(request)) {
    const repeat = dosage.timing?.repeat;
    const bounds = quantity(repeat?.boundsDuration);
    if (bounds?.unit) {
      const hours = convert(bounds.value, bounds.unit, 'h');
      if (hours !== null) return hours;
    }
    const start = timeOf(repeat?.boundsPeriod?.start);
    const end = timeOf(repeat?.boundsPeriod?.end);
    if (start !== null && end !== null && end >= start) return clean((end - start) / 3_600_000);
  }
  return null;
}
