import { JSONPath } from 'jsonpath-plus';

const SIMPLE_PATH = /^\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])+$/;
const SEGMENT = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g;
/** `$<chain>[?(@.k == 'a')]` or `... || @.k == 'b'`: a list filtered on one property's value. */
const EQUALS_FILTER = /^\$((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)\[\?\(@\.([A-Za-z_]\w*) == '[^'\\]*'(?: \|\| @\.\2 == '[^'\\]*')*\)\]$/;

/** One step of a path the service reads itself: a property, a list index, or a one-property filter. */
export type PathStep = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'filter'; key: string; equals: string[] };

/**
 * A path's steps when it is a plain property chain (`$.value`, `$.rate.value`, `$[0]`) or a list filtered
 * on one property (`$.draft[?(@.drug == 'milrinone')]`); undefined for any other JSONPath.
 */
export function pathSteps(path: string): PathStep[] | undefined {
  const chain = (text: string): PathStep[] =>
    [...text.matchAll(SEGMENT)].map((m) => (m[1] !== undefined ? { kind: 'key', key: m[1] } : { kind: 'index', index: Number(m[2]) }));
  if (SIMPLE_PATH.test(path)) return chain(path);
  const filter = EQUALS_FILTER.exec(path);
  if (!filter) return undefined;
  return [...chain(filter[1]!), { kind: 'filter', key: filter[2]!, equals: [...path.matchAll(/== '([^'\\]*)'/g)].map((m) => m[1]!) }];
}

/**
 * A condition's `path`, compiled once at load time into a function giving JSONPath's answer (what
 * json-rules-engine's default resolver gives). Rule paths are almost all plain property chains or a list
 * filtered on one property (see pathSteps); answering those directly avoids JSONPath's cost, which
 * profiling showed as the largest single item of a hook call (docs/performance.md). Anything else goes
 * to JSONPath.
 */
export function compilePath(path: string): (value: unknown) => unknown {
  const json = (value: unknown) => (value ? JSONPath({ path, json: value as object, wrap: false }) : undefined);
  const steps = pathSteps(path);
  if (!steps) return json;
  const last = steps[steps.length - 1]!;
  if (last.kind !== 'filter') {
    const keys = steps.map((s) => (s.kind === 'key' ? s.key : String((s as { index: number }).index)));
    return (value) => walk(value, keys);
  }
  const chain = steps.slice(0, -1).map((s) => (s as { key: string }).key);
  const { key, equals: wanted } = last;
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
