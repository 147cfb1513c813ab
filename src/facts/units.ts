import { UcumLhcUtils } from '@lhncbc/ucum-lhc';
import { LRUCache } from 'lru-cache';
import { UCUM_SYSTEM } from '../shared/syntax.js';

/**
 * Unit handling for facts: UCUM conversion through the NLM UCUM library (@lhncbc/ucum-lhc), plus the
 * non-UCUM unit strings EHRs put in `Quantity.unit` when `code` is missing. Generic arithmetic only:
 * which unit a rule wants, and a substance's molar mass or charge, come from the rule files.
 */


// getInstance() parses the UCUM tables (~35 ms) once per process, on first import.
const ucum = UcumLhcUtils.getInstance();

export interface ConversionOptions {
  /** g/mol, for mass ↔ substance (mg/dL ↔ mmol/L). */
  molarMass?: number;
  /** Valence, for substance ↔ equivalents (mmol/L ↔ meq/L). */
  charge?: number;
}

// The UCUM library parses a unit string on every check (about 9 µs each, keeping only the last one),
// and every Observation's unit is checked. Validity never changes, so answers are kept (bounded: the
// strings come from EHR data).
const validity = new LRUCache<string, boolean>({ max: 2_000 });

/** A valid UCUM code? Case-sensitive, as UCUM is (`mEq/L` is not, `meq/L` is). */
export function isUcum(unit: string): boolean {
  let valid = validity.get(unit);
  if (valid === undefined) {
    valid = validate(unit);
    validity.set(unit, valid);
  }
  return valid;
}

/**
 * Real units are short (`mL/min/{1.73_m2}` is 16 characters, 3 terms). UCUM's parser is super-linear
 * (a 96 k-character rate unit took 13.7 s), so a longer unit string is never handed to it: it is an
 * unreadable unit, which the facts report (data-quality card) like any other.
 */
export const MAX_UNIT_CHARS = 40;
const MAX_UNIT_TERMS = 8;

export function parseableUnit(unit: string): boolean {
  if (unit.length > MAX_UNIT_CHARS) return false;
  let terms = 1;
  for (const c of unit) if (c === '/' || c === '.') terms++;
  return terms <= MAX_UNIT_TERMS;
}

function validate(unit: string): boolean {
  // UCUM forbids blanks, and the library says so on stdout: refuse them before asking it.
  if (unit.trim() === '' || /\s/.test(unit) || !parseableUnit(unit)) return false;
  try {
    return ucum.validateUnitString(unit).status === 'valid';
  } catch {
    return false;
  }
}

// Each conversion parses both unit strings again; the same few (the patient's weights, rates and lab
// units against the rules' units) recur on every call. Bounded: values and units come from EHR data.
const conversions = new LRUCache<string, { value: number | null }>({ max: 5_000 });

/** Converts between UCUM units; null when they are not commensurable, lose an annotation, or either is invalid. */
export function convert(value: number, from: string, to: string, options: ConversionOptions = {}): number | null {
  if (!Number.isFinite(value)) return null;
  if (from === to) return value;
  if (!parseableUnit(from) || !parseableUnit(to) || !keepsAnnotations(from, to)) return null;
  const key = `${value}\u0000${from}\u0000${to}\u0000${options.molarMass ?? ''}\u0000${options.charge ?? ''}`;
  const known = conversions.get(key);
  if (known !== undefined) return known.value;
  const converted = ucumConvert(value, from, to, options);
  conversions.set(key, { value: converted });
  return converted;
}

function ucumConvert(value: number, from: string, to: string, options: ConversionOptions): number | null {
  try {
    const result = ucum.convertUnitTo(from, value, to, {
      molecularWeight: options.molarMass ?? null,
      charge: options.charge ?? null,
    });
    if (result.status !== 'succeeded' || result.toVal === null || !Number.isFinite(result.toVal)) return null;
    return clean(result.toVal);
  } catch {
    return null;
  }
}

/**
 * UCUM treats annotations as 1, so it would turn a Cockcroft-Gault mL/min into mL/min/{1.73_m2} unchanged.
 * When the unit asked for carries annotations, the value's unit must carry the same ones.
 */
function keepsAnnotations(from: string, to: string): boolean {
  const wanted = to.match(/\{[^{}]*\}/g) ?? [];
  return wanted.every((annotation) => from.includes(annotation));
}

/** Drops floating-point noise (150.00000000000003 → 150) so comparisons at a threshold behave. */
export function clean(value: number): number {
  return Number(value.toPrecision(12));
}

// Whole strings EHRs send in `Quantity.unit` that no token mapping can repair. Keys are lower case.
const UNIT_ALIASES: Readonly<Record<string, string>> = {
  '°f': '[degF]',
  'deg f': '[degF]',
  degf: '[degF]',
  f: '[degF]',
  fahrenheit: '[degF]',
  '°c': 'Cel',
  'deg c': 'Cel',
  degc: 'Cel',
  c: 'Cel',
  celsius: 'Cel',
  mmhg: 'mm[Hg]',
  'mm hg': 'mm[Hg]',
  bpm: '/min',
  'beats/min': '/min',
  'beats/minute': '/min',
  'breaths/min': '/min',
  'k/ul': '10*3/uL',
  'k/µl': '10*3/uL',
  'k/mcl': '10*3/uL',
  'thou/ul': '10*3/uL',
  'x10^3/ul': '10*3/uL',
  'x10e3/ul': '10*3/uL',
  '10^3/ul': '10*3/uL',
  'x10^9/l': '10*9/L',
  'x10e9/l': '10*9/L',
  '10^9/l': '10*9/L',
  'ml/min/1.73m2': 'mL/min/{1.73_m2}',
  'ml/min/1.73 m2': 'mL/min/{1.73_m2}',
  'ml/min/1.73m^2': 'mL/min/{1.73_m2}',
  'ml/min/1.73 m^2': 'mL/min/{1.73_m2}',
  'ml/min/1.73m²': 'mL/min/{1.73_m2}',
  percent: '%',
};

// Tokens between slashes (`mcg/kg/min` → `ug/kg/min`). Keys are lower case.
const TOKEN_ALIASES: Readonly<Record<string, string>> = {
  mcg: 'ug',
  'µg': 'ug',
  'μg': 'ug',
  meq: 'meq',
  mmol: 'mmol',
  'µmol': 'umol',
  'μmol': 'umol',
  lb: '[lb_av]',
  lbs: '[lb_av]',
  pound: '[lb_av]',
  pounds: '[lb_av]',
  oz: '[oz_av]',
  ounce: '[oz_av]',
  ounces: '[oz_av]',
  kgs: 'kg',
  ml: 'mL',
  l: 'L',
  dl: 'dL',
  ul: 'uL',
  'µl': 'uL',
  'μl': 'uL',
  mcl: 'uL',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  mins: 'min',
  minute: 'min',
  minutes: 'min',
  sec: 's',
  day: 'd',
  days: 'd',
  week: 'wk',
  weeks: 'wk',
};

/** The UCUM code for a unit string as EHRs write it (`mcg/kg/min`, `lbs`, `°F`, `mEq/L`, `K/uL`), or null. */
export function toUcum(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed === '' || !parseableUnit(trimmed)) return null;
  const alias = UNIT_ALIASES[trimmed.toLowerCase()];
  if (alias) return alias;
  // Mapped first so that valid-but-odd spellings (`mmol/l`) come out canonical (`mmol/L`).
  const mapped = trimmed
    .split('/')
    .map((token) => TOKEN_ALIASES[token.trim().toLowerCase()] ?? token.trim())
    .join('/');
  if (isUcum(mapped)) return mapped;
  return isUcum(trimmed) ? trimmed : null;
}

/** The UCUM unit of a FHIR Quantity: its `code` when that is UCUM, else its `unit` text mapped. */
export function quantityUnit(q: { value?: unknown; unit?: unknown; code?: unknown; system?: unknown } | undefined): string | null {
  if (!q) return null;
  if (typeof q.code === 'string' && (q.system === undefined || q.system === UCUM_SYSTEM) && isUcum(q.code)) {
    return q.code;
  }
  return typeof q.unit === 'string' ? toUcum(q.unit) : null;
}

/** `mcg` for `ug` (ISMP), `°F` for `[degF]`: how a UCUM unit reads on a card. */
export function displayUnit(unit: string): string {
  return unit
    .split('/')
    .map((token) => DISPLAY_TOKENS[token] ?? ANNOTATION.exec(token)?.[1] ?? token)
    .join('/');
}

const ANNOTATION = /^\{([a-z]+)\}$/;

const DISPLAY_TOKENS: Readonly<Record<string, string>> = {
  ug: 'mcg',
  Cel: '°C',
  '[degF]': '°F',
  '[lb_av]': 'lb',
  '[oz_av]': 'oz',
  'mm[Hg]': 'mmHg',
  '{1.73_m2}': '1.73 m²',
  '10*3': '10³',
  '10*9': '10⁹',
  meq: 'mEq',
  '[drp]': 'drops',
  // UCUM annotations, written for machines: a score is points; others are read as their words (beats, drinks).
  '{score}': 'points',
};

/** Numbers as clinicians read them: 83.9, 4.17, 0.375, no trailing zeros, no grouping. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs >= 10) return String(Number(value.toFixed(1)));
  if (abs >= 1) return String(Number(value.toFixed(2)));
  return String(Number(value.toPrecision(3)));
}

export function formatQuantity(value: number, unit: string | null): string {
  const number = formatNumber(value);
  if (!unit) return number;
  const shown = number === '1' ? singular(displayUnit(unit)) : displayUnit(unit);
  const glue = shown === '%' || shown.startsWith('/') ? '' : ' ';
  return `${number}${glue}${shown}`;
}

// The counted words the annotations read as, for "1 drink/d" rather than "1 drinks/d".
const SINGULAR: Readonly<Record<string, string>> = { points: 'point', beats: 'beat', drinks: 'drink', drops: 'drop' };

function singular(shown: string): string {
  const slash = shown.indexOf('/');
  const word = slash === -1 ? shown : shown.slice(0, slash);
  const one = SINGULAR[word];
  return one === undefined ? shown : one + shown.slice(word.length);
}
