import { Engine } from 'json-rules-engine';
import { describe, expect, it } from 'vitest';
import type { Knowledge } from '../../src/facts/types.js';
import { customOperators } from '../../src/rules/operators.js';

const knowledge = {
  valueSets: new Map([
    ['potassium', { name: 'potassium', title: 'Potassium', codes: new Map([['http://loinc.org|2823-3', { system: 'http://loinc.org', code: '2823-3' }]]) }],
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
