import type { Coding } from '@medplum/fhirtypes';
import type { CodeEntry, CodeFilter, Knowledge, ValueSet } from './types.js';

/**
 * Value-set membership (docs/rule-format.md "Value sets"): a listed `system|code`, or a code below a
 * filter's parent in the ICD-10-CM hierarchy, which is the code itself: I48.91 is below I48.9 and I48.
 */

export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';

/** ICD-10-CM codes compare without their dot and case: `i48.91` and `I4891` are `I4891`. */
export function icdKey(code: string): string {
  return code.replace('.', '').toUpperCase();
}

/** Is the code below (or, with `includeSelf`, at) the filter's code, and not excepted? */
export function matchesFilter(filter: CodeFilter, system: string, code: string): boolean {
  if (system !== filter.system) return false;
  const child = icdKey(code);
  const parent = icdKey(filter.code);
  if (!child.startsWith(parent) || (!filter.includeSelf && child.length === parent.length)) return false;
  return !filter.exceptCodes.has(memberKey(system, code)) && !filter.exceptFilters.some((f) => matchesFilter(f, system, code));
}

/** The key a set stores a code under: `system|code`, ICD-10-CM codes without dot, upper case. */
export function memberKey(system: string, code: string): string {
  return system === ICD10CM ? `${system}|${icdKey(code)}` : `${system}|${code}`;
}

/** The set's entry for `system|code`, or undefined when the code is not in the set. */
export function entryFor(valueSet: ValueSet, key: string): CodeEntry | undefined {
  const bar = key.indexOf('|');
  const system = key.slice(0, bar);
  const code = key.slice(bar + 1);
  const own = system === ICD10CM ? memberKey(system, code) : key;
  const listed = valueSet.codes.get(own);
  if (listed) return listed;
  return valueSet.filters.some((f) => matchesFilter(f, system, code)) ? { system, code } : undefined;
}

/** Is `system|code` in the set? */
export function hasCode(valueSet: ValueSet, key: string): boolean {
  return entryFor(valueSet, key) !== undefined;
}

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
    const entry = key === null ? undefined : entryFor(valueSet, key);
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
  return keysOf(value).some((key) => hasCode(valueSet, key));
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

/** Code systems by the name a clinician knows them by, for a code shown with no display. */
const SYSTEM_NAMES: Readonly<Record<string, string>> = {
  [ICD10CM]: 'ICD-10-CM',
  'http://snomed.info/sct': 'SNOMED CT',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
  'http://loinc.org': 'LOINC',
};

/**
 * A SNOMED CT fully specified name's semantic tag at its end ("Atrial fibrillation (disorder)"): the tags of
 * the hierarchies a record's conditions, allergies, devices and orders come from. A card shows the name without it.
 */
const SEMANTIC_TAG =
  / \((?:disorder|finding|procedure|substance|regime\/therapy|physical object|medicinal product|medicinal product form|clinical drug|product|situation|observable entity|qualifier value|morphologic abnormality|body structure|event|record artifact|environment|organism|specimen|assessment scale|physical force|life style)\)$/;

function withoutSemanticTag(name: string): string {
  return name.replace(SEMANTIC_TAG, '');
}

/**
 * The best text for a coded thing: as the record has it (coding display, concept text), else the value set's,
 * without a SNOMED CT semantic tag. With none, `fallback` (the value set's title) names it, the code after it
 * labelled by its system ("Ventricular arrhythmia (ICD-10-CM I47.2)"): a bare code is not a name.
 */
export function displayOf(coding: Coding | undefined, entry?: CodeEntry, text?: unknown, fallback?: string): string {
  const own = typeof coding?.display === 'string' && coding.display.trim() !== '' ? coding.display : undefined;
  const named = own ?? (typeof text === 'string' && text.trim() !== '' ? text : undefined) ?? entry?.display;
  if (named !== undefined) return withoutSemanticTag(named.trim());
  const code = coding?.code;
  if (code === undefined) return fallback ?? 'an uncoded entry';
  const system = coding?.system === undefined ? undefined : SYSTEM_NAMES[coding.system];
  const label = system === undefined ? `code ${code}` : `${system} ${code}`;
  return fallback === undefined ? label : `${fallback} (${label})`;
}
