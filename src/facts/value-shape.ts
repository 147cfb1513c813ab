import type { Knowledge } from './types.js';

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

/** The strings an enumeration allows for one use of its fact. */
export function enumerationValues(e: Enumeration, knowledge: Knowledge, params: unknown): readonly string[] {
  return typeof e.values === 'function' ? e.values(knowledge, params) : e.values;
}

export const number: ValueShape = { kind: 'number' };
export const boolean: ValueShape = { kind: 'boolean' };
/** An ISO date-time string. */
export const date: ValueShape = { kind: 'date' };
export const scalar: ValueShape = { kind: 'scalar' };
export const anything: ValueShape = { kind: 'any' };
export const text: ValueShape = { kind: 'string' };
export const oneOf = (from: string, values: Enumeration['values']): ValueShape => ({ kind: 'string', oneOf: { from, values } });
export const object = (fields: Record<string, ValueShape>): ValueShape => ({ kind: 'object', fields });
export const list = (of: ValueShape): ValueShape => ({ kind: 'list', of });

/** The inotropes the ruleset names (settings.inotropes): what an inotrope order's `drug` can be. */
export const inotropeNames = oneOf('settings.inotropes', (k) => k.settings.inotropes);
/** Any value set of the ruleset (value-sets/*.json). */
export const valueSetNames = oneOf('value-sets/*.json', (k) => [...k.valueSets.keys()]);
