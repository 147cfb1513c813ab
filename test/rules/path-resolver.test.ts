import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JSONPath } from 'jsonpath-plus';
import { pathResolver } from '../../src/rules/path-resolver.js';

const jsonPath = (value: unknown, path: string) => JSONPath({ path, json: value as object, wrap: false }) as unknown;
const key = fc.constantFrom('value', 'rate', 'drug', 'draft', 'unit', 'a-b', '_x', 'length', 'toString', 'constructor');

describe('pathResolver', () => {
  it('answers exactly as JSONPath for property chains', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(key, { minLength: 1, maxLength: 3 }), (value, keys) => {
        const path = `$.${keys.join('.')}`;
        expect(pathResolver(value, path)).toEqual(jsonPath(value, path));
      }),
      { numRuns: 2000 },
    );
    const fact = { value: 3.1, rate: { value: 0.5 }, draft: [{ drug: 'milrinone' }], none: null };
    for (const path of ['$.value', '$.rate.value', '$.draft', '$.none', '$.none.value', '$.missing.value']) {
      expect(pathResolver(fact, path)).toEqual(jsonPath(fact, path));
    }
  });

  it('hands filters and wildcards to JSONPath', () => {
    const fact = { draft: [{ drug: 'milrinone' }, { drug: 'dobutamine' }] };
    for (const [value, path] of [
      [fact, "$.draft[?(@.drug == 'milrinone')]"],
      [fact.draft, "$[?(@.drug == 'dobutamine')]"],
      [fact, '$.draft[0].drug'],
      [fact, '$..drug'],
    ] as const) {
      expect(pathResolver(value, path)).toEqual(jsonPath(value, path));
    }
    expect(pathResolver(fact, '$.draft[0].drug')).toBe('milrinone');
  });
});
