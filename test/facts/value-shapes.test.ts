import { describe, expect, it } from 'vitest';
import { FACTS } from '../../src/facts/index.js';
import type { FactRegistry } from '../../src/rules/compile.js';
import type { Knowledge, ValueShape } from '../../src/facts/types.js';
import { enumerationValues } from '../../src/facts/value-shape.js';
import { readRuleset } from '../../src/rules/load.js';
import { readScenarios, runScenario } from '../../src/scenarios/run-scenarios.js';

/* Each fact's declared value shape (what the loader checks condition paths and literals against) is true:
   every value the facts compute over the shipped scenarios has exactly the declared fields, lists and
   enumerations. A shape that drifted from the code would make the loader refuse good rules or pass dead ones. */

/** Where `value` departs from `shape`, as `path: problem` lines (null or absent is always allowed: no data). */
function departures(value: unknown, shape: ValueShape, knowledge: Knowledge, params: unknown, at = '$'): string[] {
  if (value === null || value === undefined) return [];
  const wrong = (what: string) => [`${at}: expected ${what}, got ${JSON.stringify(value).slice(0, 80)}`];
  switch (shape.kind) {
    case 'any':
      return [];
    case 'number':
    case 'boolean':
      return typeof value === shape.kind ? [] : wrong(shape.kind);
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? [] : wrong('a date-time');
    case 'scalar':
      return typeof value === 'number' || typeof value === 'string' ? [] : wrong('a number or a string');
    case 'string': {
      if (typeof value !== 'string') return wrong('a string');
      const allowed = shape.oneOf ? enumerationValues(shape.oneOf, knowledge, params) : undefined;
      return allowed && !allowed.includes(value) ? wrong(`one of ${allowed.join(', ')}`) : [];
    }
    case 'list':
      return Array.isArray(value) ? value.flatMap((item, i) => departures(item, shape.of, knowledge, params, `${at}[${i}]`)) : wrong('a list');
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return wrong('an object');
      const undeclared = Object.keys(value).filter((k) => !(k in shape.fields)).map((k) => `${at}.${k}: not declared`);
      const fields = Object.entries(shape.fields).flatMap(([k, s]) => departures((value as Record<string, unknown>)[k], s, knowledge, params, `${at}.${k}`));
      return [...undeclared, ...fields];
    }
  }
}

describe('fact value shapes', () => {
  it('every value computed over the shipped scenarios has the shape its fact declares', async () => {
    const seen = new Map<string, number>();
    const problems = new Set<string>();
    const checking: FactRegistry = Object.fromEntries(
      Object.entries(FACTS).map(([id, def]) => [
        id,
        {
          ...def,
          compute: (params: unknown, ctx: Parameters<typeof def.compute>[1]) => {
            const value: unknown = def.compute(params, ctx);
            seen.set(id, (seen.get(id) ?? 0) + (value === null || (Array.isArray(value) && value.length === 0) ? 0 : 1));
            for (const p of departures(value, def.value, ctx.knowledge, params)) problems.add(`${id} ${p}`);
            return value;
          },
        },
      ]),
    );
    const loaded = await readRuleset('rules', checking);
    if (!loaded.ok) throw new Error('the shipped ruleset does not load');
    const { cases } = await readScenarios('rules');
    for (const c of cases) await runScenario(loaded.ruleset, c);
    expect([...problems]).toEqual([]);
    // The check saw real values of the facts the rules use, not only nulls.
    for (const id of ['latestObservation', 'order', 'inotropes', 'patient', 'conditions', 'overdueObservations', 'dataGaps']) {
      expect(seen.get(id), id).toBeGreaterThan(0);
    }
  }, 300_000);
});
