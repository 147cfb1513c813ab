import { Engine } from 'json-rules-engine';
import { describe, expect, it } from 'vitest';
import type { Knowledge } from '../../src/facts/types.js';
import { customOperators, KNOWN_OPERATORS, operatorsAt } from '../../src/rules/operators.js';

const knowledge = {
  valueSets: new Map([
    ['potassium', { name: 'potassium', title: 'Potassium', codes: new Map([['http://loinc.org|2823-3', { system: 'http://loinc.org', code: '2823-3' }]]), filters: [] }],
  ]),
  thresholds: new Map(),
  tables: new Map(),
} as unknown as Knowledge;
const NOW = new Date('2026-11-21T12:00:00Z');

/** Runs one condition through a real engine with our operators, as rules use them. */
async function holds(value: unknown, operator: string, expected: unknown): Promise<boolean> {
  const engine = new Engine([{ conditions: { all: [{ fact: 'x', operator, value: expected }] }, event: { type: 'hit' } }]);
  for (const op of customOperators(knowledge, NOW)) engine.addOperator(op);
  const { events } = await engine.run({ x: value });
  return events.length === 1;
}

describe('custom operators', () => {
  it.each([
    [3.1, true, true],
    [0, true, true],
    [[], true, false],
    [null, true, false],
    [[1], true, true],
    [null, false, true],
    [[], false, true],
    [{ value: 1 }, false, false],
  ])('exists: %j with %j → %j', async (value, expected, result) => {
    expect(await holds(value, 'exists', expected)).toBe(result);
  });

  it.each([
    [{ system: 'http://loinc.org', code: '2823-3' }, true],
    [{ coding: [{ system: 'http://loinc.org', code: '6298-4' }, { system: 'http://loinc.org', code: '2823-3' }] }, true],
    [[{ system: 'http://loinc.org', code: '1' }, { system: 'http://loinc.org', code: '2823-3' }], true],
    ['http://loinc.org|2823-3', true],
    [{ system: 'http://snomed.info/sct', code: '2823-3' }, false],
    [null, false],
  ])('inValueSet potassium: %j → %j', async (value, result) => {
    expect(await holds(value, 'inValueSet', 'potassium')).toBe(result);
  });

  it.each([
    ['2026-11-19T11:59:00Z', '48h', true],
    ['2026-11-19T12:01:00Z', '48h', false],
    ['2025-11-01T00:00:00Z', '1y', true],
    ['not a date', '1h', false],
    [null, '1h', false],
  ])('olderThan: %j than %s → %j (now 2026-11-21T12:00Z)', async (value, duration, result) => {
    expect(await holds(value, 'olderThan', duration)).toBe(result);
  });

  it('combines with decorators (not:inValueSet)', async () => {
    expect(await holds([{ system: 'http://loinc.org', code: '2823-3' }], 'not:inValueSet', 'potassium')).toBe(false);
  });
});

/**
 * operatorsAt reads json-rules-engine's operator map, which is not in its typed API (it is where the
 * engine builds decorated operators and applies their validators). This pins that reliance: every
 * operator a rule file may name, plain and decorated, must be found there and must agree with what
 * the engine itself decides through its public run(); an upgrade that moves or changes the map fails here.
 */
describe('operatorsAt agrees with json-rules-engine', () => {
  const lookup = operatorsAt(knowledge, NOW);
  const cases: [string, unknown, unknown][] = [
    ['equal', 3, 3],
    ['notEqual', 'a', 'b'],
    ['lessThan', 3.1, 3.5],
    ['lessThanInclusive', 3.5, 3.5],
    ['greaterThan', 121, 120],
    ['greaterThanInclusive', 119, 120],
    ['lessThan', null, 3.5],
    ['in', 'milrinone', ['milrinone', 'dobutamine']],
    ['notIn', 'furosemide', ['milrinone']],
    ['contains', ['milrinone'], 'milrinone'],
    ['doesNotContain', ['milrinone'], 'dobutamine'],
    ['exists', [], true],
    ['inValueSet', 'http://loinc.org|2823-3', 'potassium'],
    ['olderThan', '2026-11-19T11:59:00Z', '48h'],
    ['not:equal', 3, 3],
    ['someFact:greaterThan', [1, 5], 4],
    ['everyFact:lessThan', [1, 5], 4],
    ['someValue:equal', 2, [1, 2]],
  ];

  it('knows every operator rule files may name', () => {
    for (const name of KNOWN_OPERATORS) expect(lookup(name), name).not.toBeNull();
    expect(lookup('lessThen')).toBeNull();
  });

  it.each(cases)('%s: %j vs %j', async (operator, fact, value) => {
    expect(lookup(operator)!.evaluate(fact, value)).toBe(await holds(fact, operator, value));
  });
});
