import { z } from 'zod';
import { rulesFileSchema, settingsFileSchema, thresholdsFileSchema } from './file-schemas.js';
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
      const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' });
      return [file, `${JSON.stringify({ ...json, title }, null, 2)}\n`];
    }),
  );
}
