import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JSONPath } from 'jsonpath-plus';
import { compilePath } from '../../src/rules/path-resolver.js';

const pathResolver = (value: unknown, path: string) => compilePath(path)(value);

const jsonPath = (value: unknown, path: string) => JSONPath({ path, json: value as object, wrap: false }) as unknown;
const key = fc.constantFrom('.value', '.rate', '.drug', '.draft', '.unit', '.a-b', '._x', '.length', '.toString', '.constructor', '[0]', '[1]');

describe('compilePath', () => {
  it('answers exactly as JSONPath for property chains', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(key, { minLength: 1, maxLength: 3 }), (value, keys) => {
        const path = `$${keys.join('')}`;
        expect(pathResolver(value, path)).toEqual(jsonPath(value, path));
      }),
      { numRuns: 5000 },
    );
    const fact = { value: 3.1, rate: { value: 0.5 }, draft: [{ drug: 'milrinone' }], none: null };
    for (const path of ['$.value', '$.rate.value', '$.draft', '$.draft[0].drug', '$[0]', '$.none', '$.none.value', '$.missing.value']) {
      expect(pathResolver(fact, path)).toEqual(jsonPath(fact, path));
    }
    const list = [{ drug: 'milrinone' }, 'x', ''];
    for (const path of ['$[0]', '$[0].drug', '$[1]', '$[1].length', '$[2]', '$[2].length', '$[3]']) expect(pathResolver(list, path)).toEqual(jsonPath(list, path));
    expect(pathResolver(list, '$[0].drug')).toBe('milrinone');
  });

  it('answers exactly as JSONPath for lists filtered on one property', () => {
    const item = fc.oneof(
      fc.record({ key: fc.constantFrom('conditions', 'medications', '1', 1, true, '', 0), drug: fc.constantFrom('milrinone', 'dobutamine') }, { requiredKeys: [] }),
      fc.constantFrom(5, 's', [], {}, '', 0, false),
    );
    const doc = fc.oneof(fc.array(item), fc.record({ draft: fc.oneof(fc.array(item), item) }), fc.record({ key: fc.constant('conditions') }));
    const path = fc.constantFrom(
      "$[?(@.key == 'conditions')]",
      "$[?(@.key == 'conditions' || @.key == 'medications')]",
      "$[?(@.key == '1')]",
      "$.draft[?(@.drug == 'milrinone')]",
      "$.draft[?(@.key == 'medications' || @.key == 'true')]",
    );
    fc.assert(
      fc.property(doc, path, (value, p) => {
        expect(pathResolver(value, p)).toEqual(jsonPath(value, p));
      }),
      { numRuns: 3000 },
    );
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
