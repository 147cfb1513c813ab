import type { z } from 'zod';
import type { DataRequirement, MedicationOrder, PatientData } from '../shared/patient-data.js';
import type { CallMemo } from './memo.js';

/**
 * The contract between facts (pure functions of the patient's data) and the rules layer that loads
 * rule files and runs json-rules-engine. docs/rule-format.md documents each fact for rule authors.
 */

export interface CodeEntry {
  system: string;
  code: string;
  display?: string;
  /** Product strength as UCUM mass/volume, e.g. `{ value: 0.2, unit: 'mg/mL' }`. */
  concentration?: { value: number; unit: string };
}

export interface ValueSet {
  name: string;
  title: string;
  /** Canonical URL other sets include it by. */
  url: string;
  version?: string;
  source?: string;
  /** The listed codes after excludes, keyed by `system|code`. */
  codes: ReadonlyMap<string, CodeEntry>;
  /** Code-hierarchy filters (ICD-10-CM), each with the excludes that apply to it. */
  filters: readonly CodeFilter[];
  /** For converting between mass and substance units (g/mol). */
  molarMass?: { value: number; unit: string };
  /** Ionic charge (valence), for converting between substance and equivalent units (mmol/L ↔ meq/L). */
  charge?: number;
  /** Units an observation in the set may be recorded in; absent: any UCUM unit that converts. */
  units?: readonly AcceptedUnit[];
  /** How one value is chosen among several recorded at the same instant. */
  sameTime?: { prefer: readonly string[]; choose: 'lowest' | 'highest' };
  /** Lower-case words that identify a drug order by name alone. */
  matchText?: readonly string[];
  /** Cards show its values with the time of day (vital signs), in the display time zone. */
  timeOfDay?: boolean;
}

/** `code` and, with `includeSelf` false, only what is below it (ICD-10-CM: the code-prefix hierarchy). */
export interface CodeFilter {
  system: string;
  code: string;
  includeSelf: boolean;
  /** Excluded member keys and filters: a code they match is not matched by this filter. */
  exceptCodes: ReadonlySet<string>;
  exceptFilters: readonly CodeFilter[];
}

export interface AcceptedUnit {
  unit: string;
  /** Read a value recorded in `unit` as this unit, unchanged. */
  readAs?: string;
  /** Only for these codes (`system|code`); absent: every code of the set. */
  codes?: ReadonlySet<string>;
}

export interface Threshold {
  name: string;
  value: number;
  unit: string;
  maxAge?: string;
  source?: string;
}

export interface LookupTable {
  name: string;
  input: { unit: string };
  output: { unit: string };
  method: 'floor' | 'interpolate';
  /** [input, output] pairs, ascending by input. */
  rows: readonly (readonly [number, number])[];
  source?: string;
}

export interface Settings {
  inotropes: readonly string[];
  ivRoute: string;
  ivProducts: string;
  homeOrderCategories?: string;
  weight: { valueSet: string; maxAge: string };
  source: { label: string; url?: string };
  /** Younger patients are children: `adults` rules do not run for them. */
  adultAge: string;
  /** An active inotrope order older than this with no administration recorded is stale. */
  staleOrderAge: string;
  overrideReasons: readonly { system: string; code: string; display: string }[];
  /** Y-site grades of drugs given alongside an inotrope (settings.lineCompatibility). */
  lineCompatibility: readonly LinePair[];
}

/** How strongly a source speaks against giving two drugs through one line. */
export const LINE_GRADES = ['incompatible', 'variable', 'diluent'] as const;
export type LineGrade = (typeof LINE_GRADES)[number];

export interface LinePair {
  inotrope: string;
  with: readonly string[];
  grade: LineGrade;
  /** What the source reports, as a card says it. */
  finding: string;
  /** docs/references.md keys. */
  source: string;
}

/** The clinical knowledge a fact may consult, all of it loaded from rules/. */
export interface Knowledge {
  valueSets: ReadonlyMap<string, ValueSet>;
  thresholds: ReadonlyMap<string, Threshold>;
  tables: ReadonlyMap<string, LookupTable>;
  settings: Settings;
}

export interface FactContext {
  data: PatientData;
  now: Date;
  knowledge: Knowledge;
  /** The order an order-scoped rule is evaluated for. */
  subject?: MedicationOrder;
  /** Active inotrope orders that look stale (src/facts/administrations.ts): left out of `data.medicationOrders`. */
  staleOrders?: readonly MedicationOrder[];
  /** Values this call's facts share (src/facts/memo.ts): one per hook call, shared by its subject orders. */
  memo: CallMemo;
  /** The observations the hook's rules read (the `unreadableObservations` fact reports their unusable newest values). */
  observed?: readonly ObservationRead[];
  /** Checks of this call that threw (rule isolation, src/rules/evaluate.ts): set for the rules that report them. */
  failedChecks?: readonly FailedCheck[];
  /** The hospital's IANA time zone (DISPLAY_TIME_ZONE) that times of day are shown in; default UTC. */
  timeZone?: string;
}

/** A rule that could not run on this call: what a clinician can be told (its title), never the error. */
export interface FailedCheck {
  id: string;
  title: string;
}

/** A value set a fact reads observations of, and how far back (none: any age). */
export interface ObservationRead {
  valueSet: string;
  maxAge?: string | undefined;
}

/** A reference from fact params to something in the knowledge base, checked at load time. */
export type KnowledgeRef = { kind: 'valueSet' | 'threshold' | 'table'; name: string };

export interface FactDefinition<P = unknown> {
  /** Params as rule files write them; validated at load time. */
  params: z.ZodType<P>;
  /** Value sets, thresholds and tables the params name (the loader checks they exist). */
  refs(params: P, settings: Settings): KnowledgeRef[];
  /** The data the fact reads, as prefetch keys (the union over a ruleset is what discovery advertises). */
  requirements(params: P, knowledge: Knowledge): DataRequirement[];
  /** The observations it reads, so that an unusable newest value is reported (default: none). */
  observes?(params: P, knowledge: Knowledge): ObservationRead[];
  /** `order` facts need a subject order; the loader refuses them in patient-scoped rules. */
  scope?: 'order';
  /**
   * The shape of the value (fields, lists, enumerations): the loader refuses a condition path that cannot
   * resolve in it and a literal outside an enumeration; docs/clinical-rules.md lists it under "Facts".
   */
  value: ValueShape;
  /** The settings (rules/settings.json) the value depends on, listed with each rule that reads the fact. */
  settings?: readonly (keyof Settings)[];
  /** Pure: same inputs, same value. Returns JSON-safe values (objects with a `display` where shown on cards). */
  compute(params: P, ctx: FactContext): unknown;
  /**
   * How a card words a null value (computed only for a card's text; conditions see the null): a stale
   * result with its date and age rather than "unknown". Default: "unknown".
   */
  absent?(params: P, ctx: FactContext): string;
}

/**
 * The shape of a fact's value as conditions read it: which `path`s can resolve and, where a string is one
 * of a closed set (drug names, origins, statuses), which literals can ever match. Each fact declares its
 * own; the loader checks every condition against it, and docs/clinical-rules.md and rules/schema list it.
 * A value may also be null or absent (no data): that is what `exists` tests, and no path is refused for it.
 */
export type ValueShape =
  | { kind: 'number' | 'boolean' | 'date' }
  /** A number or a coded `system|code` string (an observation's value). */
  | { kind: 'scalar' }
  | { kind: 'string'; oneOf?: Enumeration }
  | { kind: 'object'; fields: Readonly<Record<string, ValueShape>> }
  | { kind: 'list'; of: ValueShape }
  /** Whatever an expression returns (the fhirpath fact): every path and literal is accepted. */
  | { kind: 'any' };

/** A closed set of strings: fixed in code, or read from the ruleset being loaded and the fact's params. */
export interface Enumeration {
  /** Where the values come from, for messages and docs: `settings.inotropes`. */
  from: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each fact reads its own params type
  values: readonly string[] | ((knowledge: Knowledge, params: any) => readonly string[]);
}
