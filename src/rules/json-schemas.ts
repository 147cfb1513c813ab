import { z } from 'zod';
import type { JSONSchema } from 'zod/v4/core';
import { FACTS } from '../facts/index.js';
import type { ValueShape } from '../facts/types.js';
import { conditionSchema, rulesFileSchema, settingsFileSchema, thresholdsFileSchema } from './file-schemas.js';
import { valueSetFileSchema } from './value-set-file.js';
import { chartSchema, scenariosFileSchema } from './scenarios/scenario-schema.js';

/**
 * The JSON Schemas in rules/schema/, generated from the zod schemas the loader uses (never edited by
 * hand): rule files point at them with `$schema` so an editor completes and checks them as you type.
 */
const SCHEMAS: Record<string, { title: string; schema: z.ZodType }> = {
  'settings.schema.json': { title: 'inotrope-cds settings', schema: settingsFileSchema },
  'value-set.schema.json': { title: 'inotrope-cds value set (FHIR ValueSet)', schema: valueSetFileSchema },
  'thresholds.schema.json': { title: 'inotrope-cds thresholds and tables', schema: thresholdsFileSchema },
  'rules.schema.json': { title: 'inotrope-cds rules', schema: rulesFileSchema },
  'scenarios.schema.json': { title: 'inotrope-cds scenario tests', schema: scenariosFileSchema },
  'patient.schema.json': { title: 'inotrope-cds synthetic patient chart', schema: chartSchema },
};

/** File name → file text, for rules/schema/. */
export function jsonSchemaFiles(): Map<string, string> {
  return new Map(
    Object.entries(SCHEMAS).map(([file, { title, schema }]) => {
      // `input`: what authors write (fields with defaults are optional).
      const json = z.toJSONSchema(schema, {
        target: 'draft-7',
        io: 'input',
        unrepresentable: 'any',
        override: (ctx) => {
          if ((ctx.zodSchema as unknown) === conditionSchema) ctx.jsonSchema.allOf = enumerationClauses();
        },
      });
      return [file, `${JSON.stringify({ ...json, title }, null, 2)}\n`];
    }),
  );
}

/**
 * The literals a fact's enumerations allow (`"order"` `$.origin` is "draft" or "active"), as if/then
 * clauses on a condition, so an editor flags `"drafted"` as the loader does. Only enumerations fixed in
 * code: those read from the ruleset (drug names, value sets) are checked at load.
 */
function enumerationClauses(): JSONSchema.BaseSchema[] {
  const clauses: JSONSchema.BaseSchema[] = [];
  for (const [fact, def] of Object.entries(FACTS)) {
    for (const { path, values, list } of fixedEnumerations(def.value, '$')) {
      const when = (operators: string[]) => ({
        properties: { fact: { const: fact }, ...(path !== '$' && { path: { const: path } }), operator: { enum: operators } },
        required: ['fact', 'operator', ...(path === '$' ? [] : ['path'])],
        ...(path === '$' && { not: { required: ['path'] } }),
      });
      const value = (schema: JSONSchema.BaseSchema) => ({ properties: { value: schema } });
      if (list) {
        clauses.push({ if: when(['contains', 'doesNotContain']), then: value({ enum: [...values] }) });
      } else {
        clauses.push({ if: when(['equal', 'notEqual']), then: value({ enum: [...values] }) });
        clauses.push({ if: when(['in', 'notIn']), then: value({ type: 'array', items: { enum: [...values] } }) });
      }
    }
  }
  return clauses;
}

/** Every plain path to an enumeration fixed in code (or a list of one) in a shape. */
function fixedEnumerations(shape: ValueShape, path: string): { path: string; values: readonly string[]; list: boolean }[] {
  const item = shape.kind === 'list' ? shape.of : shape;
  if (item.kind === 'string' && item.oneOf && typeof item.oneOf.values !== 'function') {
    return [{ path, values: item.oneOf.values, list: shape.kind === 'list' }];
  }
  if (shape.kind === 'object') return Object.entries(shape.fields).flatMap(([key, field]) => fixedEnumerations(field, `${path}.${key}`));
  return [];
}
