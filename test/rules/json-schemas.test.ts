import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { jsonSchemaFiles } from '../../src/rules/json-schemas.js';

const SCHEMA_DIR = 'rules/schema';

describe('rules/schema (JSON Schemas for editors)', () => {
  it('is up to date with the zod schemas (run `npm run rules:schema` after changing them)', async () => {
    const onDisk = (await readdir(SCHEMA_DIR)).filter((f) => f.endsWith('.schema.json')).sort();
    const generated = jsonSchemaFiles();
    expect(onDisk).toEqual([...generated.keys()].sort());
    for (const [file, text] of generated) {
      expect(await readFile(path.join(SCHEMA_DIR, file), 'utf8'), `${SCHEMA_DIR}/${file} is stale`).toBe(text);
    }
  });

  it('accepts every file in rules/ that points at it, as an editor would check it', async () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validators = new Map([...jsonSchemaFiles()].map(([file, text]) => [file, ajv.compile(JSON.parse(text) as object)]));
    const files = ['settings.json', ...(await Promise.all(['rules', 'value-sets', 'thresholds', 'tests', 'tests/patients'].map(async (d) =>
      (await readdir(path.join('rules', d))).filter((f) => f.endsWith('.json')).map((f) => `${d}/${f}`),
    ))).flat()];
    let checked = 0;
    for (const file of files) {
      const json = JSON.parse(await readFile(path.join('rules', file), 'utf8')) as { $schema?: string };
      if (json.$schema === undefined) continue;
      const validate = validators.get(path.basename(json.$schema))!;
      expect(validate(json) ? [] : validate.errors, file).toEqual([]);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('rejects what the loader rejects: a misspelt key is flagged in the editor too', () => {
    const ajv = new Ajv({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(jsonSchemaFiles().get('thresholds.schema.json')!) as object);
    expect(validate({ $schema: '../schema/thresholds.schema.json', thresholds: { 'k-low': { value: 3.5, unit: 'mmol/L', maxage: '72h' } } })).toBe(false);
  });

  it('flags a misspelt operator and a literal outside a fixed enumeration as you type', () => {
    const ajv = new Ajv({ strict: false });
    addFormats.default(ajv);
    ajv.addSchema(JSON.parse(jsonSchemaFiles().get('rules.schema.json')!) as object, 'rules');
    const condition = ajv.getSchema('rules#/definitions/condition')!;
    expect(condition({ fact: 'order', path: '$.rate.value', operator: 'greaterThen', value: 1 })).toBe(false);
    expect(condition({ fact: 'order', path: '$.rate.value', operator: 'someFact:greaterThan', value: 1 })).toBe(true);
    expect(condition({ fact: 'order', path: '$.origin', operator: 'equal', value: 'drafted' })).toBe(false);
    expect(condition({ fact: 'order', path: '$.origin', operator: 'equal', value: 'draft' })).toBe(true);
    expect(condition({ fact: 'order', path: '$.rateStatus', operator: 'in', value: ['no-weight', 'no-weigth'] })).toBe(false);
    expect(condition({ fact: 'moment', operator: 'notEqual', value: 'order entry' })).toBe(false);
    expect(condition({ fact: 'moment', operator: 'notEqual', value: 'order-entry' })).toBe(true);
  });
});
