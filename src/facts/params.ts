import { z } from 'zod';
import { isUcum } from './units.js';
import { nameSchema } from '../shared/syntax.js';

/** Param schemas shared by the facts; rule files are checked against them at load time. */

const DURATION = /^(\d+(?:\.\d+)?)(min|h|d|w|y)$/;

export const durationSchema = z
  .string()
  .regex(DURATION, 'a duration is <n><unit> with unit min, h, d, w or y, e.g. 72h')
  .describe('A duration such as "72h" (units min, h, d, w, y).');

export const ucumSchema = z
  .string()
  .refine(isUcum, 'not a valid UCUM unit (case-sensitive, e.g. ug/kg/min, mmol/L, Cel)')
  .describe('A UCUM unit the value is read in, e.g. "mmol/L".');

// What a param names in the ruleset, declared with each param (the loader checks it through the fact's
// refs; docs/clinical-rules.md "Facts" shows these descriptions).
export const valueSetParam = nameSchema.describe('A value set: the name of a file in value-sets/.');
export const thresholdParam = nameSchema.describe('A threshold in thresholds/*.json: its unit and maxAge apply unless given here.');
export const tableParam = nameSchema.describe('A lookup table in thresholds/*.json "tables".');

/** Facts that take no params accept `{}` or nothing. */
export const noParams = z.strictObject({}).default({});
export type NoParams = z.infer<typeof noParams>;

const MS_PER: Readonly<Record<string, number>> = {
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365.25 * 86_400_000,
};

/** Milliseconds in a rule-file duration (`72h`, `7d`); null when it is not one. */
export function durationMs(duration: string): number | null {
  const match = DURATION.exec(duration);
  if (!match) return null;
  const [, amount, unit] = match;
  return Number(amount) * (MS_PER[unit as string] ?? NaN);
}
