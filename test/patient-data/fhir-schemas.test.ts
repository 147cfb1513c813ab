import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { accepts, readResource, RESOURCE_SHAPES, type ReadableType } from '../../src/patient-data/fhir-schemas.js';

/**
 * readResource runs the zod shapes as JSON Schema compiled by ajv (zod's parse copies every object it
 * checks). The verdicts must be zod's: every resource of the rule tests' charts and scenarios, and random corruptions of
 * them (any field, at any depth, replaced by any JSON value or removed), are checked both ways.
 */

const TYPES = Object.keys(RESOURCE_SHAPES) as ReadableType[];
const TESTS = path.resolve(import.meta.dirname, '../../rules/tests');

function chartResources(): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record.resourceType === 'string' && TYPES.includes(record.resourceType as ReadableType)) found.push(record);
      Object.values(record).forEach(walk);
    }
  };
  const files = readdirSync(TESTS, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
  for (const file of files) walk(JSON.parse(readFileSync(path.join(TESTS, file), 'utf8')));
  return found;
}

const zodAccepts = (type: ReadableType, raw: unknown) => RESOURCE_SHAPES[type].safeParse(raw).success;
const compiledAccepts = (type: ReadableType, raw: unknown) => accepts(type, raw);

/** Every path to a value inside a JSON value (object keys and array indexes). */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...paths(v, [...prefix, i])]);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
  return [];
}

function replaced(value: unknown, at: (string | number)[], next: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent = copy;
  for (const step of at.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  if (!parent || typeof parent !== 'object') return copy;
  const last = at[at.length - 1]!;
  if (next === REMOVE) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = next;
  return copy;
}

/** Every field name the shapes constrain, so corruptions can also add fields a chart does not have. */
function shapeKeys(schema: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => shapeKeys(s, into));
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === 'properties' && v && typeof v === 'object') Object.keys(v).forEach((name) => into.add(name));
      shapeKeys(v, into);
    }
  }
  return into;
}
const KEYS = [...shapeKeys(TYPES.map((t) => z.toJSONSchema(RESOURCE_SHAPES[t], { io: 'input' })))];

const REMOVE = Symbol('remove');
const jsonValue = fc.oneof(
  fc.constant(REMOVE),
  fc.constantFrom(null, true, '', 'x', 0, 1, -2, 1.5, 2 ** 60, -(2 ** 60), [], {}, [{}], { coding: 'x' }, { value: '1' }, 'Observation'),
  fc.string(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }),
);

describe('FHIR resource shape checks', () => {
  const resources = chartResources();

  it('finds resources of every type the facts read in the rule tests', () => {
    const seen = new Set(resources.map((r) => r.resourceType));
    for (const type of TYPES) expect(seen, type).toContain(type);
  });

  it('accepts and rejects each chart resource exactly as the zod shapes do, under every type', () => {
    for (const resource of resources) {
      for (const type of TYPES) expect(compiledAccepts(type, resource), `${type} on ${String(resource.id)}`).toBe(zodAccepts(type, resource));
    }
  });

  it('answers as zod for random corruptions of chart resources', () => {
    let rejected = 0;
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.array(fc.tuple(fc.option(fc.constantFrom(...KEYS)), jsonValue), { minLength: 1, maxLength: 3 }), (which, where, changes) => {
        const resource = resources[which % resources.length]!;
        let corrupted: unknown = resource;
        changes.forEach(([key, v], i) => {
          // Replace (or remove) a value at some path, or add a field the shapes know to the object there.
          const candidates: (string | number)[][] = [[], ...paths(corrupted)];
          let at = candidates[(where + i * 7919) % candidates.length]!;
          if (key !== null) at = [...at, key];
          if (at.length > 0) corrupted = replaced(corrupted, at, v);
        });
        const type = resource.resourceType as ReadableType;
        const expected = zodAccepts(type, corrupted);
        if (!expected) rejected++;
        expect(compiledAccepts(type, corrupted)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
    // The corruptions must reach fields the shapes constrain, or the comparison above proves little.
    expect(rejected).toBeGreaterThan(300);
  });

  it('reads what facts can read, leaving out only the fields they cannot, and keeps what they ignore', () => {
    const observation = { resourceType: 'Observation', code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] }, valueQuantity: { value: 4.1 } };
    expect(readResource('Observation', observation)).toEqual({ resource: observation, dropped: [] });
    expect(readResource('Observation', observation)?.resource).toBe(observation);
    expect(readResource('Observation', { ...observation, extension: [{ url: 'x' }], meta: { source: 'y' } })?.dropped).toEqual([]);
    const dropped = (raw: unknown, type: ReadableType = 'Observation') => readResource(type, raw)?.dropped;
    expect(dropped({ ...observation, code: { coding: { code: '2823-3' } } })).toEqual(['/code/coding']);
    expect(dropped({ ...observation, valueQuantity: { value: '4.1' } })).toEqual(['/valueQuantity/value']);
    expect(dropped({ ...observation, valueInteger: 1.5 })).toEqual(['/valueInteger']);
    expect(dropped({ ...observation, valueInteger: 2 ** 60 })).toEqual(['/valueInteger']);
    expect(dropped({ ...observation, valueInteger: -(2 ** 60) })).toEqual(['/valueInteger']);
    expect(dropped({ ...observation, status: null })).toEqual(['/status']);
    // An entry that cannot be read goes, with the pointer it had: the others keep theirs.
    const components = { ...observation, component: ['x', { code: 5 }, { code: { text: 'a' }, valueQuantity: { value: 's' } }, { code: { text: 'b' } }] };
    const read = readResource('Observation', components);
    expect(read?.dropped).toEqual(['/component/0', '/component/1', '/component/2/valueQuantity/value']);
    expect(read?.resource.component).toEqual([{ code: { text: 'a' }, valueQuantity: {} }, { code: { text: 'b' } }]);
    expect(components.component[0]).toBe('x'); // the received resource is not changed
    // Without the fields it cannot do without, or as another type, it is no such resource.
    expect(readResource('Observation', { ...observation, code: 'potassium' })).toBeUndefined();
    expect(readResource('Condition', observation)).toBeUndefined();
    expect(readResource('Patient', 'Patient')).toBeUndefined();
    // JSON numbers beyond double range parse as Infinity: not a value.
    const order = JSON.parse('{"resourceType":"MedicationRequest","authoredOn":5,"dosageInstruction":[{"doseAndRate":[{"rateQuantity":{"value":1e400}}]}]}');
    expect(dropped(order, 'MedicationRequest')).toEqual(['/authoredOn', '/dosageInstruction/0/doseAndRate/0/rateQuantity/value']);
  });

  it('whatever the corruption, what it reads is what the zod shapes accept, and only the named fields are missing', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.constantFrom(...KEYS), jsonValue, (which, where, key, v) => {
        const resource = resources[which % resources.length]!;
        const candidates: (string | number)[][] = paths(resource);
        const at = [...(candidates[where % candidates.length] ?? []), key];
        const corrupted = replaced(resource, at, v);
        const type = resource.resourceType as ReadableType;
        const read = readResource(type, corrupted);
        if (!read) return;
        expect(zodAccepts(type, read.resource)).toBe(true);
        if (zodAccepts(type, corrupted)) expect(read).toEqual({ resource: corrupted, dropped: [] });
        else expect(read.dropped.length).toBeGreaterThan(0);
      }),
      { numRuns: 1500 },
    );
  });
});
