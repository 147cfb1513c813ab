import fc from 'fast-check';
import { Engine, type TopLevelCondition } from 'json-rules-engine';
import { describe, expect, it } from 'vitest';
import type { Knowledge } from '../../src/facts/types.js';
import type { ConditionNode } from '../../src/rules/file-schemas.js';
import { compileCondition, type FactUse } from '../../src/rules/conditions.js';
import { customOperators, operatorsAt } from '../../src/rules/operators.js';

/**
 * Compiled conditions must answer as json-rules-engine answers for the same tree: the rule files are
 * json-rules-engine conditions, and authors read its documentation. Random trees over random fact
 * values, with every operator rule files may name, decorators, paths of each form the rules use, and
 * fact references as values, are evaluated both ways.
 */

const knowledge = {
  valueSets: new Map([['k', { name: 'k', title: 'K', codes: new Map([['http://loinc.org|2823-3', { system: 'http://loinc.org', code: '2823-3' }]]), filters: [] }]]),
  thresholds: new Map(),
  tables: new Map(),
} as unknown as Knowledge;
const NOW = new Date('2026-11-21T12:00:00Z');
const FACT_IDS = ['a', 'b', 'c', 'd'] as const;

const scalar = fc.oneof(
  fc.constantFrom(0, 1, 2.5, -3, 140, '140', 'x', 'draft', '', true, false, null, '2026-11-19T12:00:00Z', '2026-11-21T11:00:00Z'),
  fc.integer({ min: -5, max: 200 }),
);
const coding = fc.constantFrom({ system: 'http://loinc.org', code: '2823-3' }, { system: 'http://loinc.org', code: '1' });
const record = fc.record(
  { value: scalar, key: fc.constantFrom('conditions', 'obs-lvef', 'medications'), origin: fc.constantFrom('draft', 'active'), drug: fc.constantFrom('milrinone', 'dobutamine') },
  { requiredKeys: [] },
);
const factValue = fc.oneof(
  scalar,
  coding,
  record,
  fc.array(scalar, { maxLength: 4 }),
  fc.array(record, { maxLength: 4 }),
  fc.record({ value: scalar, draft: fc.array(record, { maxLength: 3 }), rate: fc.record({ value: scalar }) }, { requiredKeys: [] }),
  fc.constant(undefined),
);

const PATHS = ['$.value', '$.rate.value', '$[0]', '$.draft', "$[?(@.origin == 'draft')]", "$[?(@.key == 'conditions' || @.key == 'obs-lvef')]", "$.draft[?(@.drug == 'milrinone')]"];
const BASE_OPERATORS = ['equal', 'notEqual', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive', 'in', 'notIn', 'contains', 'doesNotContain', 'exists', 'inValueSet', 'olderThan'];
const DECORATORS = ['', 'not:', 'someFact:', 'everyFact:', 'swap:', 'not:someFact:'];

function valueFor(operator: string): fc.Arbitrary<unknown> {
  const base = operator.split(':').pop()!;
  if (base === 'in' || base === 'notIn') return fc.array(scalar, { maxLength: 3 });
  if (base === 'exists') return fc.boolean();
  if (base === 'inValueSet') return fc.constant('k');
  if (base === 'olderThan') return fc.constantFrom('48h', '7d', '30m');
  return fc.oneof(scalar, fc.record({ fact: fc.constantFrom(...FACT_IDS), path: fc.constantFrom(...PATHS) }));
}

const leaf: fc.Arbitrary<ConditionNode> = fc
  .record({
    fact: fc.constantFrom(...FACT_IDS),
    path: fc.option(fc.constantFrom(...PATHS), { nil: undefined }),
    operator: fc.tuple(fc.constantFrom(...DECORATORS), fc.constantFrom(...BASE_OPERATORS)).map(([d, o]) => d + o),
  })
  .chain((l) => valueFor(l.operator).map((value) => ({ ...l, ...(l.path === undefined && { path: undefined }), value }) as ConditionNode));

const { tree } = fc.letrec<{ tree: ConditionNode }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ all: fc.array(tie('tree'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('tree'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('tree') }),
  ),
}));

/** json-rules-engine's answer; undefined when it throws (an operator applied to a value it cannot take). */
async function engineAnswer(condition: ConditionNode, facts: Record<string, unknown>): Promise<boolean | undefined> {
  const top = (condition.all || condition.any || condition.not ? condition : { all: [condition] }) as TopLevelCondition;
  const engine = new Engine([{ conditions: top, event: { type: 'hit' } }], { allowUndefinedFacts: false });
  for (const op of customOperators(knowledge, NOW)) engine.addOperator(op);
  for (const id of FACT_IDS) engine.addFact(id, () => facts[id]);
  try {
    return (await engine.run()).events.length === 1;
  } catch {
    return undefined;
  }
}

function compiledAnswer(condition: ConditionNode, facts: Record<string, unknown>): boolean | undefined {
  const predicate = compileCondition(condition, (fact, params): FactUse => ({ fact, params, key: fact }));
  const operator = operatorsAt(knowledge, NOW);
  try {
    return predicate({ fact: (use) => facts[use.fact], operator: (name) => operator(name)! });
  } catch {
    return undefined;
  }
}

describe('compiled conditions answer as json-rules-engine does', () => {
  it('on random condition trees and fact values', async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.record({ a: factValue, b: factValue, c: factValue, d: factValue }), async (condition, facts) => {
        const expected = await engineAnswer(condition, facts);
        // json-rules-engine evaluates every condition of a group; the compiled form stops at the first
        // that decides, so it may answer where the engine threw on a later one. Elsewhere they agree.
        fc.pre(expected !== undefined);
        expect(compiledAnswer(condition, facts)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['a path on a non-object passes the value itself', { fact: 'a', path: '$.value', operator: 'equal', value: 5 }, { a: 5 }, true],
    ['a path that finds nothing is undefined', { fact: 'a', path: '$.value', operator: 'exists', value: false }, { a: {} }, true],
    ['a fact reference as the value', { fact: 'a', operator: 'lessThan', value: { fact: 'b', path: '$.value' } }, { a: 1, b: { value: 2 } }, true],
    ['numeric operators refuse non-numbers', { fact: 'a', operator: 'lessThan', value: 5 }, { a: 'x' }, false],
    ['someFact over an array', { fact: 'a', operator: 'someFact:equal', value: 2 }, { a: [1, 2] }, true],
    ['not over an empty any-match', { not: { fact: 'a', operator: 'contains', value: 9 } }, { a: [1] }, true],
  ] as const)('%s', async (_title, condition, facts, answer) => {
    expect(await engineAnswer(condition as ConditionNode, facts)).toBe(answer);
    expect(compiledAnswer(condition as ConditionNode, facts)).toBe(answer);
  });
});
