import type { Enumeration, Knowledge, ValueShape } from './types.js';

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
