import type { Coding } from '@medplum/fhirtypes';
import type { CodeEntry, Knowledge, ValueSet } from './types.js';

/** Value-set membership: exact `system|code` matches, as docs/rule-format.md specifies. */

export function codingKey(coding: unknown): string | null {
  if (typeof coding !== 'object' || coding === null) return null;
  const { system, code } = coding as { system?: unknown; code?: unknown };
  return typeof system === 'string' && typeof code === 'string' && system !== '' && code !== '' ? `${system}|${code}` : null;
}

/** The value set's entry for the first of the codings it contains. */
export function matchCoding(valueSet: ValueSet | undefined, codings: readonly unknown[]): { coding: Coding; entry: CodeEntry } | null {
  if (!valueSet) return null;
  for (const coding of codings) {
    const key = codingKey(coding);
    const entry = key === null ? undefined : valueSet.codes.get(key);
    if (entry) return { coding: coding as Coding, entry };
  }
  return null;
}

/** The codings of a CodeableConcept, or [] for anything malformed. */
export function codingsOf(concept: unknown): Coding[] {
  if (typeof concept !== 'object' || concept === null) return [];
  const coding = (concept as { coding?: unknown }).coding;
  return Array.isArray(coding) ? (coding.filter((c) => typeof c === 'object' && c !== null) as Coding[]) : [];
}

/**
 * For the `inValueSet` operator: true when any coding in `value` is in the named value set. `value` may be a
 * Coding, a CodeableConcept, a `system|code` string, or an array of those; anything else is not in it.
 */
export function inValueSet(knowledge: Knowledge, valueSetName: string, value: unknown): boolean {
  const valueSet = knowledge.valueSets.get(valueSetName);
  if (!valueSet) return false;
  return keysOf(value).some((key) => valueSet.codes.has(key));
}

function keysOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap((v) => (Array.isArray(v) ? [] : keysOf(v)));
  if (typeof value !== 'object' || value === null) return [];
  const key = codingKey(value);
  if (key !== null) return [key];
  return codingsOf(value).flatMap((c) => {
    const k = codingKey(c);
    return k === null ? [] : [k];
  });
}

/** The best text for a coded thing: as the record has it (coding display, concept text), else the value set's. */
export function displayOf(coding: Coding | undefined, entry?: CodeEntry, text?: unknown): string {
  const own = typeof coding?.display === 'string' && coding.display !== '' ? coding.display : undefined;
  return own ?? (typeof text === 'string' && text !== '' ? text : undefined) ?? entry?.display ?? coding?.code ?? 'unknown';
}
