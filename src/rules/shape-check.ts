import type { Knowledge, ValueShape } from '../facts/types.js';
import { enumerationValues } from '../facts/value-shape.js';
import { didYouMean } from './load-error.js';
import { pathSteps } from './path-resolver.js';

/** What a condition's path reaches in its fact's value: a shape, or an error saying why it cannot resolve. */
export type PathResult = { ok: true; shape: ValueShape } | { ok: false; message: string };

/**
 * Follows a condition's `path` through the shape its fact declares. Plain chains (`$.rate.value`, `$[0]`)
 * and one-property filters (`$.draft[?(@.drug == 'milrinone')]`) are checked step by step, the filter's
 * literals against the property's enumeration; any other JSONPath is accepted as written.
 */
export function resolveShape(fact: string, shape: ValueShape, path: string | undefined, knowledge: Knowledge, params: unknown): PathResult {
  if (path === undefined) return { ok: true, shape };
  const steps = pathSteps(path);
  if (steps === undefined) return { ok: true, shape: { kind: 'any' } };
  let current = shape;
  let walked = '$';
  for (const step of steps) {
    if (current.kind === 'any') return { ok: true, shape: current };
    if (step.kind === 'index') {
      if (current.kind !== 'list') return { ok: false, message: `path "${path}" cannot resolve: ${where(fact, walked)} is ${describeShape(current)}, not a list` };
      current = current.of;
      walked += `[${step.index}]`;
      continue;
    }
    if (step.kind === 'key') {
      const fields = current.kind === 'object' ? current.fields : undefined;
      if (!fields || !(step.key in fields)) {
        const has = fields ? `; it has ${Object.keys(fields).map((k) => `"${k}"`).join(', ')}${didYouMean(step.key, Object.keys(fields))}` : '';
        return { ok: false, message: `path "${path}" cannot resolve: ${where(fact, walked)} is ${describeShape(current)} with no "${step.key}"${has}` };
      }
      current = fields[step.key]!;
      walked += `.${step.key}`;
      continue;
    }
    // A filter keeps the list items whose property equals one of the literals.
    if (current.kind !== 'list') return { ok: false, message: `path "${path}" cannot resolve: ${where(fact, walked)} is ${describeShape(current)}, not a list to filter` };
    const item = current.of;
    if (item.kind === 'any') return { ok: true, shape: current };
    const field = item.kind === 'object' ? item.fields[step.key] : undefined;
    if (!field) {
      const has = item.kind === 'object' ? `; they have ${Object.keys(item.fields).map((k) => `"${k}"`).join(', ')}${didYouMean(step.key, Object.keys(item.fields))}` : '';
      return { ok: false, message: `path "${path}" cannot resolve: the items of ${where(fact, walked)} have no "${step.key}"${has}` };
    }
    for (const literal of step.equals) {
      const refused = outsideEnumeration(literal, field, knowledge, params);
      if (refused) return { ok: false, message: `path "${path}": "${literal}" can never match: ${where(fact, `${walked}[*].${step.key}`)} is ${refused}` };
    }
  }
  return { ok: true, shape: current };
}

const EQUALITY = new Set(['equal', 'notEqual']);
const MEMBERSHIP = new Set(['in', 'notIn']);
const CONTAINS = new Set(['contains', 'doesNotContain']);

/**
 * A literal compared with an enumerated string that can never be equal to it: the message, else undefined.
 * Decorated operators (`someFact:equal`) and values that are not literals are not judged here.
 */
export function refusedLiteral(
  use: { fact: string; params: unknown; path: string | undefined; shape: ValueShape },
  operator: string,
  value: unknown,
  knowledge: Knowledge,
): { message: string; index?: number } | undefined {
  const { fact, path, shape, params } = use;
  const at = where(fact, path ?? '$');
  const check = (literal: unknown, target: ValueShape, index?: number) => {
    if (typeof literal !== 'string') return undefined;
    const refused = outsideEnumeration(literal, target, knowledge, params);
    return refused ? { message: `"${literal}" can never match: ${at} ${target === shape ? 'is' : 'holds only values that are'} ${refused}`, ...(index !== undefined && { index }) } : undefined;
  };
  if (EQUALITY.has(operator)) return check(value, shape);
  if (MEMBERSHIP.has(operator) && Array.isArray(value)) {
    for (const [i, literal] of value.entries()) {
      const refused = check(literal, shape, i);
      if (refused) return refused;
    }
  }
  if (CONTAINS.has(operator) && shape.kind === 'list') return check(value, shape.of);
  return undefined;
}

/** `one of "a", "b" (where from) (did you mean "a"?)` when the shape is an enumeration without the literal. */
function outsideEnumeration(literal: string, shape: ValueShape, knowledge: Knowledge, params: unknown): string | undefined {
  if (shape.kind !== 'string' || !shape.oneOf) return undefined;
  const values = enumerationValues(shape.oneOf, knowledge, params);
  if (values.includes(literal)) return undefined;
  return `one of ${values.map((v) => `"${v}"`).join(', ')} (${shape.oneOf.from})${didYouMean(literal, values)}`;
}

function where(fact: string, path: string): string {
  return path === '$' ? `the value of "${fact}"` : `"${fact}" ${path}`;
}

/** `an object`, `a list`, `a number` … for messages and docs. */
export function describeShape(shape: ValueShape): string {
  switch (shape.kind) {
    case 'object':
      return 'an object';
    case 'list':
      return 'a list';
    case 'string':
      if (!shape.oneOf) return 'a string';
      return typeof shape.oneOf.values === 'function' ? `one of ${shape.oneOf.from}` : `one of ${shape.oneOf.values.map((v) => `"${v}"`).join(', ')}`;
    case 'scalar':
      return 'a number or a coded "system|code" string';
    case 'date':
      return 'a date-time string';
    case 'any':
      return 'any value';
    default:
      return `a ${shape.kind}`;
  }
}
