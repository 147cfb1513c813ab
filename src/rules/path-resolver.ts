import { JSONPath } from 'jsonpath-plus';

const SIMPLE_PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_-]*)+$/;

/**
 * json-rules-engine's condition `path` resolver. Most rule paths are plain property chains
 * (`$.value`, `$.rate.value`); walking those directly gives JSONPath's answer without its cost,
 * which profiling showed as the largest single item of a hook call (docs/performance.md).
 * Anything else (filters, wildcards) goes to JSONPath, as json-rules-engine does by default.
 */
export function pathResolver(value: unknown, path: string): unknown {
  if (!SIMPLE_PATH.test(path)) return JSONPath({ path, json: value as object, wrap: false });
  // JSONPath answers nothing for a falsy document (null, 0, '', false).
  if (!value) return undefined;
  let current: unknown = value;
  for (const key of path.slice(2).split('.')) {
    // Own properties only, of any non-null value (a string's `length` too), as JSONPath reads them.
    if (current === null || current === undefined || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
