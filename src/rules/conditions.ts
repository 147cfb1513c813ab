import type { ConditionNode } from './file-schemas.js';
import { compilePath } from './path-resolver.js';
import type { Comparison } from './operators.js';

/** A fact with validated params, as a condition or template reads it. */
export interface FactUse {
  fact: string;
  params: unknown;
  /** `<fact> <params as JSON>`: the same key means the same value within one evaluation. */
  key: string;
}

/** What a condition reads while it is evaluated: fact values (memoised by the caller) and operators. */
export interface ConditionScope {
  fact(use: FactUse): unknown;
  operator(name: string): Comparison;
  /** How a card words the fact's null value, when its definition says (FactDefinition.absent). */
  absent?(use: FactUse): string | undefined;
}

export type Predicate = (scope: ConditionScope) => boolean;

/** A checked comparison: the compiler has replaced aliases and thresholds and parsed the params. */
export interface CheckedComparison {
  fact: string;
  params: unknown;
  path?: string;
  operator: string;
  value: unknown;
}

/**
 * Compiles a checked condition tree into a plain function, once at load time. It gives the answer
 * json-rules-engine gives for the same tree (a test holds the two together on every scenario and on
 * random trees), without building an Engine, Rules and Almanac, awaiting each condition and deep-cloning
 * the condition tree into a RuleResult on every call, which profiling showed as most of a hook's CPU
 * (docs/performance.md). Operators stay json-rules-engine's own (decorators included). One difference:
 * `all` and `any` stop at the first condition that decides, where the engine evaluates every one, so a
 * fact that throws in a condition after the deciding one no longer fails the call.
 *
 * `useOf` turns a checked fact reference into the interned FactUse whose key the evaluation memoises.
 */
export function compileCondition(node: ConditionNode, useOf: (fact: string, params: unknown) => FactUse): Predicate {
  if (node.all) {
    const parts = node.all.map((c) => compileCondition(c, useOf));
    return (scope) => parts.every((p) => p(scope));
  }
  if (node.any) {
    const parts = node.any.map((c) => compileCondition(c, useOf));
    return (scope) => parts.some((p) => p(scope));
  }
  if (node.not) {
    const inner = compileCondition(node.not, useOf);
    return (scope) => !inner(scope);
  }
  const leaf = node as CheckedComparison;
  const left = reader(useOf(leaf.fact, leaf.params), leaf.path);
  const right = isFactReference(leaf.value)
    ? reader(useOf(leaf.value.fact, leaf.value.params), leaf.value.path)
    : () => leaf.value;
  const { operator } = leaf;
  return (scope) => scope.operator(operator).evaluate(left(scope), right(scope));
}

/**
 * The checked tree with each comparison's fact reads resolved, for explaining an evaluation condition by
 * condition (src/rules/explain.ts). Built with the same `useOf`, so the same reads hit the same memo.
 */
export type CheckedTree =
  | { kind: 'all'; children: CheckedTree[] }
  | { kind: 'any'; children: CheckedTree[] }
  | { kind: 'not'; child: CheckedTree }
  | { kind: 'leaf'; leaf: CheckedComparison; use: FactUse; left: (scope: ConditionScope) => unknown; right: (scope: ConditionScope) => unknown };

export function checkTree(node: ConditionNode, useOf: (fact: string, params: unknown) => FactUse): CheckedTree {
  if (node.all) return { kind: 'all', children: node.all.map((c) => checkTree(c, useOf)) };
  if (node.any) return { kind: 'any', children: node.any.map((c) => checkTree(c, useOf)) };
  if (node.not) return { kind: 'not', child: checkTree(node.not, useOf) };
  const leaf = node as CheckedComparison;
  const use = useOf(leaf.fact, leaf.params);
  const right = isFactReference(leaf.value) ? reader(useOf(leaf.value.fact, leaf.value.params), leaf.value.path) : () => leaf.value;
  return { kind: 'leaf', leaf, use, left: reader(use, leaf.path), right };
}

/** json-rules-engine's Almanac.factValue: a path applies to object values only; other values pass as they are. */
function reader(use: FactUse, path: string | undefined): (scope: ConditionScope) => unknown {
  if (!path) return (scope) => scope.fact(use);
  const resolve = compilePath(path);
  return (scope) => {
    const value = scope.fact(use);
    return value !== null && typeof value === 'object' ? resolve(value) : value;
  };
}

/** json-rules-engine's Almanac.getValue: a value that is an object with its own `fact` is read as a fact. */
function isFactReference(value: unknown): value is { fact: string; params?: unknown; path?: string } {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'fact');
}
