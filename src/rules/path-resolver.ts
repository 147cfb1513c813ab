import { JSONPath } from 'jsonpath-plus';

const SIMPLE_PATH = /^\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])+$/;
const SEGMENT = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g;
/** `$<chain>[?(@.k == 'a')]` or `... || @.k == 'b'`: a list filtered on one property's value. */
const EQUALS_FILTER = /^\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)\[\?\(@\.([A-Za-z_]\w*) == '[^'\\]*'(?: \|\| @\.\2 == '[^'\\]*')*\)\]$/;

/**
 * A condition's `path`, compiled once at load time into a function giving JSONPath's answer (what
 * json-rules-engine's default resolver gives). Rule paths are almost all plain property chains
 * (`$.value`, `$.rate.value`, `$[0]`) or a list filtered on one property (`$[?(@.key == 'conditions')]`);
 * answering those directly avoids JSONPath's cost, which profiling showed as the largest single item
 * of a hook call (docs/performance.md). Anything else goes to JSONPath.
 */
export function compilePath(path: string): (value: unknown) => unknown {
  if (SIMPLE_PATH.test(path)) {
    const keys = [...path.matchAll(SEGMENT)].map((m) => m[1] ?? m[2]!);
    return (value) => walk(value, keys);
  }
  const filter = EQUALS_FILTER.exec(path);
  const json = (value: unknown) => (value ? JSONPath({ path, json: value as object, wrap: false }) : undefined);
  if (!filter) return json;
  const chain = filter[1]!.split('.').slice(1);
  const key = filter[2]!;
  const wanted = [...path.matchAll(/== '([^'\\]*)'/g)].map((m) => m[1]!);
  return (value) => {
    const list = walk(value, chain);
    // Only lists of values a filter can read; JSONPath itself throws on a null entry and filters objects by their values.
    if (!Array.isArray(list) || list.some((item) => item === null || item === undefined)) return json(value);
    // Loose equality, as the filter expression itself compares (`1 == '1'`).
    const matches = list.filter((item) => wanted.some((w) => (item as Record<string, unknown>)[key] == w));
    return matches.length > 0 ? matches : undefined;
  };
}

/** Own properties only, of any truthy value (a string's `length` too), as JSONPath reads them; nothing for a falsy document. */
function walk(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!current || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
