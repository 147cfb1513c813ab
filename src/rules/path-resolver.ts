import { JSONPath } from 'jsonpath-plus';

const SIMPLE_PATH = /^\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])+$/;
const SEGMENT = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g;
/** `$<chain>[?(@.k == 'a')]` or `... || @.k == 'b'`: a list filtered on one property's value. */
const EQUALS_FILTER = /^\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)\[\?\(@\.([A-Za-z_]\w*) == '[^'\\]*'(?: \|\| @\.\2 == '[^'\\]*')*\)\]$/;

/**
 * json-rules-engine's condition `path` resolver. Rule paths are almost all plain property chains
 * (`$.value`, `$.rate.value`, `$[0]`) or a list filtered on one property (`$[?(@.key == 'conditions')]`);
 * answering those directly gives JSONPath's answer without its cost, which profiling showed as the
 * largest single item of a hook call (docs/performance.md). Anything else goes to JSONPath, as
 * json-rules-engine does by default.
 */
export function pathResolver(value: unknown, path: string): unknown {
  // JSONPath answers nothing for a falsy document (null, 0, '', false).
  if (!value) return undefined;
  if (SIMPLE_PATH.test(path)) return walk(value, [...path.matchAll(SEGMENT)].map((m) => m[1] ?? m[2]!));
  const filter = EQUALS_FILTER.exec(path);
  if (filter) {
    const list = walk(value, filter[1]!.split('.').slice(1));
    // Only lists of values a filter can read; JSONPath itself throws on a null entry and filters objects by their values.
    if (Array.isArray(list) && list.every((item) => item !== null && item !== undefined)) {
      const key = filter[2]!;
      const wanted = [...path.matchAll(/== '([^'\\]*)'/g)].map((m) => m[1]!);
      // Loose equality, as the filter expression itself compares (`1 == '1'`).
      const matches = list.filter((item) => wanted.some((w) => (item as Record<string, unknown>)[key] == w));
      return matches.length > 0 ? matches : undefined;
    }
  }
  return JSONPath({ path, json: value as object, wrap: false });
}

/** Own properties only, of any truthy value (a string's `length` too), as JSONPath reads them. */
function walk(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!current || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
