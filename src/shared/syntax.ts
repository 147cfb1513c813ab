import { z } from 'zod';

/** Lexical shapes several layers check, defined once. */

/** An RFC 4122 UUID, any version, either case. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The names rule files give to value sets, thresholds, tables, aliases and charts. */
export const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const nameSchema = z.string().regex(NAME, 'must be kebab-case: lower-case letters, digits and single hyphens, e.g. "potassium-low"');

/** UCUM's code system URI (FHIR Quantity.system). */
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

/** Encodes a path of keys as an RFC 6901 JSON pointer. */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
