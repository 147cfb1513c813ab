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

/** `text` without trailing `char`s, in one pass (`/\/+$/` retries from every slash of a long run: quadratic). */
export function trimEnd(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return text.slice(0, end);
}

/** `text` without leading or trailing `char`s. */
export function trimBoth(text: string, char: string): string {
  let start = 0;
  while (start < text.length && text[start] === char) start++;
  return trimEnd(text.slice(start), char);
}

/**
 * Each run of whitespace that holds a line break becomes one space, in linear time (`/\s*\n\s*\/g` retries
 * every start of a long whitespace run: 56 s for 200 k spaces). String#trim removes exactly the characters of `\s`.
 */
export function joinLines(text: string): string {
  if (!text.includes('\n')) return text;
  const lines = text.split('\n');
  const out = [lines[0]!.trimEnd()];
  let blank = false; // only blank lines since the last text: their breaks join into the one space still owed
  for (let i = 1; i < lines.length; i++) {
    const line = i === lines.length - 1 ? lines[i]!.trimStart() : lines[i]!.trim();
    blank = line === '';
    if (!blank) out.push(' ', line);
  }
  if (blank) out.push(' ');
  return out.join('');
}

/** An IANA time zone name (`Area/Location` or `UTC`; not an offset) that this runtime knows (`Intl` refuses any other). */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+){0,2}$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
