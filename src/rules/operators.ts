import { Operator } from 'json-rules-engine';
import type { Knowledge } from '../facts/types.js';
import { durationMs } from '../facts/params.js';
import { inValueSet } from '../facts/value-sets.js';

/**
 * Operators rule files may use beyond json-rules-engine's built-ins. `olderThan` compares against the
 * evaluation time, so the set is created per evaluation.
 */
export const CUSTOM_OPERATORS = ['exists', 'inValueSet', 'olderThan'] as const;

/** json-rules-engine's own operators plus ours: what rule files may name (before any decorator such as `someFact:`). */
export const KNOWN_OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  ...CUSTOM_OPERATORS,
] as const;

export function customOperators(knowledge: Knowledge, now: Date): Operator[] {
  return [
    new Operator<unknown, boolean>('exists', (fact, expected) => isPresent(fact) === expected),
    new Operator<unknown, string>('inValueSet', (fact, valueSet) => inValueSet(knowledge, valueSet, fact)),
    new Operator<unknown, string>(
      'olderThan',
      (fact, duration) => now.getTime() - Date.parse(fact as string) > (durationMs(duration) ?? Infinity),
      (fact) => typeof fact === 'string' && !Number.isNaN(Date.parse(fact)),
    ),
  ];
}

function isPresent(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  return !Array.isArray(value) || value.length > 0;
}
