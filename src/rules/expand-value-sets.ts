import path from 'node:path';
import type { AcceptedUnit, CodeEntry, CodeFilter, ValueSet } from '../facts/types.js';
import { ICD10CM, matchesFilter, memberKey } from '../facts/value-sets.js';
import { jsonPointer as pointer, NAME } from '../shared/syntax.js';
import { didYouMean, type LoadError } from './load-error.js';
import type { ValueSetFile, ValueSetInclude } from './value-set-file.js';

/**
 * Expands the value-set files once, at load: listed concepts, other sets included by canonical URL,
 * ICD-10-CM hierarchy filters, then excludes. Reports what would make a set silently useless or
 * wrong: an unknown or circular reference, a filter on a code system whose hierarchy the service does
 * not know, an empty set, and codes shared with a set declared disjoint.
 */

export const DEFAULT_URL_PREFIX = 'urn:inotrope-cds:value-set:';

/** ICD-10-CM codes: a letter, two characters, then up to four after the dot (I48, I48.91, T81.11XA). */
const ICD10CM_CODE = /^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$/;

export interface ValueSetSource {
  file: string;
  content: ValueSetFile;
}

interface Part {
  codes: Map<string, CodeEntry>;
  filters: CodeFilter[];
}

export function valueSetName(file: string): string {
  return path.posix.basename(file, '.json');
}

export function expandValueSets(sources: readonly ValueSetSource[], broken: ReadonlySet<string>, errors: LoadError[]): Map<string, ValueSet> {
  const byName = new Map<string, ValueSetSource>();
  const byUrl = new Map<string, string>();
  for (const source of sources) {
    const name = valueSetName(source.file);
    if (!NAME.test(name)) {
      errors.push({ file: source.file, pointer: '', message: `the file name is the set's name in rules and must be kebab-case, e.g. "heart-failure.json"` });
      continue;
    }
    byName.set(name, source);
    const url = source.content.url ?? `${DEFAULT_URL_PREFIX}${name}`;
    const first = byUrl.get(url);
    if (first !== undefined) {
      errors.push({ file: source.file, pointer: '/url', message: `url "${url}" is already the url of value-sets/${first}.json` });
    } else {
      byUrl.set(url, name);
    }
  }

  const done = new Map<string, ValueSet | null>();
  const visiting: string[] = [];

  const expand = (name: string): ValueSet | null => {
    const cached = done.get(name);
    if (cached !== undefined) return cached;
    const source = byName.get(name)!;
    const { file, content } = source;
    if (visiting.includes(name)) {
      errors.push({ file, pointer: '/compose', message: `includes itself through ${[...visiting.slice(visiting.indexOf(name)), name].join(' → ')}` });
      return null;
    }
    visiting.push(name);
    let ok = true;
    const part = (include: ValueSetInclude, at: PropertyKey[]): Part | null => {
      const out: Part = { codes: new Map(), filters: [] };
      const system = include.system;
      for (const [i, c] of (include.concept ?? []).entries()) {
        if (system === ICD10CM && !ICD10CM_CODE.test(c.code)) {
          errors.push({ file, pointer: pointer([...at, 'concept', i, 'code']), message: `"${c.code}" is not an ICD-10-CM code (e.g. "I50.22")` });
          ok = false;
        }
        out.codes.set(memberKey(system!, c.code), { system: system!, ...c });
      }
      for (const [i, f] of (include.filter ?? []).entries()) {
        if (system !== ICD10CM) {
          errors.push({
            file,
            pointer: pointer([...at, 'filter', i]),
            message: `filters work only on ICD-10-CM (${ICD10CM}), whose hierarchy is its codes; list ${system ?? 'these'} codes as "concept" (import them from a published expansion)`,
          });
          ok = false;
          continue;
        }
        if (!ICD10CM_CODE.test(f.value)) {
          errors.push({ file, pointer: pointer([...at, 'filter', i, 'value']), message: `"${f.value}" is not an ICD-10-CM code (e.g. "I48")` });
          ok = false;
          continue;
        }
        out.filters.push({ system, code: f.value, includeSelf: f.op === 'is-a', exceptCodes: new Set(), exceptFilters: [] });
      }
      // FHIR: concept/filter and valueSet in one include mean "in both"; the schema keeps them apart, so a
      // valueSet-only include is the union of the sets it names.
      for (const [i, ref] of (include.valueSet ?? []).entries()) {
        const [url, version] = ref.split('|') as [string, string | undefined];
        const target = byUrl.get(url);
        const where = pointer([...at, 'valueSet', i]);
        if (target === undefined) {
          if (!broken.has(`valueSetUrl:${url}`)) {
            errors.push({ file, pointer: where, message: `no file in value-sets/ has url "${url}"${didYouMean(url, byUrl.keys())}` });
          }
          ok = false;
          continue;
        }
        const targetVersion = byName.get(target)!.content.version;
        if (version !== undefined && version !== targetVersion) {
          errors.push({ file, pointer: where, message: `value-sets/${target}.json is version ${targetVersion ?? '(none)'}, not ${version}` });
          ok = false;
          continue;
        }
        const included = expand(target);
        if (!included) {
          ok = false;
          continue;
        }
        for (const [key, entry] of included.codes) out.codes.set(key, entry);
        out.filters.push(...included.filters);
      }
      return out;
    };

    const codes = new Map<string, CodeEntry>();
    const filters: CodeFilter[] = [];
    (content.compose?.include ?? []).forEach((include, i) => {
      const p = part(include, ['compose', 'include', i]);
      if (!p) return;
      for (const [key, entry] of p.codes) if (!codes.has(key)) codes.set(key, entry);
      filters.push(...p.filters);
    });
    const exceptCodes = new Set<string>();
    const exceptFilters: CodeFilter[] = [];
    (content.compose?.exclude ?? []).forEach((exclude, i) => {
      const p = part(exclude, ['compose', 'exclude', i]);
      if (!p) return;
      for (const key of p.codes.keys()) exceptCodes.add(key);
      exceptFilters.push(...p.filters);
    });
    for (const key of [...codes.keys()]) {
      const entry = codes.get(key)!;
      if (exceptCodes.has(key) || exceptFilters.some((f) => matchesFilter(f, entry.system, entry.code))) codes.delete(key);
    }
    const narrowed = filters.map((f) => ({ ...f, exceptCodes: new Set([...f.exceptCodes, ...exceptCodes]), exceptFilters: [...f.exceptFilters, ...exceptFilters] }));
    visiting.pop();
    if (!ok) {
      done.set(name, null);
      return null;
    }
    if (codes.size === 0 && narrowed.length === 0 && content.compose !== undefined) {
      errors.push({ file, pointer: '/compose', message: 'the set is empty after its excludes: a rule reading it could never match' });
    }
    const valueSet: ValueSet = {
      name,
      title: content.title,
      url: content.url ?? `${DEFAULT_URL_PREFIX}${name}`,
      ...(content.version !== undefined && { version: content.version }),
      ...(content.source !== undefined && { source: content.source }),
      codes,
      filters: narrowed,
      ...(content.molarMass && { molarMass: content.molarMass }),
      ...(content.charge !== undefined && { charge: content.charge }),
      ...(content.units && { units: content.units.map((u) => acceptedUnit(u, codes)) }),
      ...(content.sameTime && { sameTime: { prefer: content.sameTime.prefer ?? [], choose: content.sameTime.choose } }),
      ...(content.matchText && { matchText: content.matchText }),
      ...(content.timeOfDay && { timeOfDay: true }),
    };
    done.set(name, valueSet);
    return valueSet;
  };

  const valueSets = new Map<string, ValueSet>();
  for (const name of byName.keys()) {
    const valueSet = expand(name);
    if (valueSet) valueSets.set(name, valueSet);
  }
  checkDisjoint(byName, valueSets, errors);
  return valueSets;
}

function acceptedUnit(u: string | { unit: string; readAs: string; codes?: string[] | undefined }, codes: ReadonlyMap<string, CodeEntry>): AcceptedUnit {
  if (typeof u === 'string') return { unit: u };
  if (!u.codes) return { unit: u.unit, readAs: u.readAs };
  const keys = new Set<string>();
  for (const code of u.codes) for (const entry of codes.values()) if (entry.code === code) keys.add(`${entry.system}|${entry.code}`);
  return { unit: u.unit, readAs: u.readAs, codes: keys };
}

/** Sets declared `disjointWith` each other must share no listed code (a code in both is a curation mistake). */
function checkDisjoint(byName: ReadonlyMap<string, ValueSetSource>, valueSets: ReadonlyMap<string, ValueSet>, errors: LoadError[]): void {
  for (const [name, { file, content }] of byName) {
    for (const [i, other] of (content.disjointWith ?? []).entries()) {
      const a = valueSets.get(name);
      if (!byName.has(other)) {
        errors.push({ file, pointer: pointer(['disjointWith', i]), message: `unknown value set "${other}"${didYouMean(other, byName.keys())}` });
        continue;
      }
      const b = valueSets.get(other);
      if (!a || !b) continue;
      const shared = [...a.codes.values()].filter((e) => b.codes.has(memberKey(e.system, e.code)) || b.filters.some((f) => matchesFilter(f, e.system, e.code)));
      const sharedFilters = a.filters.filter((f) => b.filters.some((g) => matchesFilter(g, f.system, f.code) || matchesFilter(f, g.system, g.code)));
      const listed = [...shared.map((e) => e.code), ...sharedFilters.map((f) => `${f.code} and below`)];
      if (listed.length > 0) {
        errors.push({
          file,
          pointer: pointer(['disjointWith', i]),
          message: `shares ${listed.length === 1 ? 'a code' : `${listed.length} codes`} with "${other}", declared disjoint: ${listed.slice(0, 10).join(', ')}${listed.length > 10 ? ', ...' : ''}`,
        });
      }
    }
  }
}
