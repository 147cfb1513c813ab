import { Engine, Operator } from 'json-rules-engine';
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

/** json-rules-engine's operator decorators, which prefix an operator: `someFact:lessThan`, `not:in`. */
export const OPERATOR_DECORATORS = ['someFact', 'someValue', 'everyFact', 'everyValue', 'swap', 'not'] as const;

/** Every operator name a condition may give, decorators included, as a regular expression (for editors). */
export const OPERATOR_PATTERN = `^((${OPERATOR_DECORATORS.join('|')}):)*(${KNOWN_OPERATORS.join('|')})$`;

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

/**
 * Looks operators up by the name a condition gives, decorators included (`not:someFact:equal`), as
 * json-rules-engine's own operator map does; null for a name it does not know. One per evaluation time.
 */
export function operatorsAt(knowledge: Knowledge, now: Date): (name: string) => Comparison | null {
  const engine = new Engine();
  for (const op of customOperators(knowledge, now)) engine.addOperator(op);
  // The map and Operator#evaluate (the fact-value validator, then the comparison) are not in the typed
  // API, but they are where json-rules-engine builds decorated operators and applies its validators.
  // test/rules/operators.test.ts pins this against the engine's public run().
  const map = (engine as unknown as { operators?: { get?(name: string): Comparison | null } }).operators;
  if (typeof map?.get !== 'function') throw new Error('json-rules-engine no longer keeps its operators where src/rules/operators.ts reads them');
  return (name) => map.get!(name);
}

/** An operator as conditions apply it: json-rules-engine's Operator. */
export interface Comparison {
  evaluate(factValue: unknown, value: unknown): boolean;
}
