import type { Knowledge } from '../facts/types.js';
import type { RulesFile, SettingsFile } from './file-schemas.js';
import type { CodeMatch, CodeSearch, RulesetDocument } from '../shared/operator-api.js';

/**
 * The ruleset as informaticists read it in the console (`GET /admin/ruleset`, `GET /admin/codes`):
 * the parsed rule files of the loaded version, with what uses each value set, threshold and table.
 * Built from the documents the ruleset was loaded from, so it always describes the version serving,
 * not files on disk that a refused reload left behind.
 */

/**
 * What a ruleset was built from: the rule files as written (paths relative to the rules folder), the
 * settings, and the knowledge base (value sets as expanded, thresholds, tables).
 */
export interface RulesetDocuments {
  settings: SettingsFile;
  rules: readonly { file: string; content: RulesFile }[];
  knowledge: Knowledge;
}

/** The part of `GET /admin/ruleset` built from the documents. */
export type RulesetDescription = Pick<RulesetDocument, 'rules' | 'overrideReasons' | 'valueSets' | 'thresholds' | 'tables'>;

export function describeRuleset(docs: RulesetDocuments): RulesetDescription {
  const refs = references(docs);
  const used = (kind: string, name: string) => [...(refs.get(`${kind}:${name}`) ?? [])].sort();
  return {
    rules: docs.rules.flatMap(({ file, content }) => content.rules.map((r) => ({ ...r, file }))),
    overrideReasons: docs.settings.overrideReasons,
    valueSets: [...docs.knowledge.valueSets.values()].map((vs) => {
      const systems: Record<string, number> = {};
      for (const c of vs.codes.values()) systems[c.system] = (systems[c.system] ?? 0) + 1;
      return { name: vs.name, title: vs.title, source: vs.source ?? '', codeCount: vs.codes.size, systems, usedBy: used('valueSet', vs.name) };
    }),
    thresholds: [...docs.knowledge.thresholds.values()].map((t) => ({ ...t, usedBy: used('threshold', t.name) })),
    tables: [...docs.knowledge.tables.values()].map((t) => ({ ...t, rows: t.rows.map((r) => [...r]), usedBy: used('table', t.name) })),
  };
}

/** Longest code search text and most matches answered: the search stays cheap whatever is typed. */
export const MAX_CODE_QUERY = 100;
export const MAX_CODE_MATCHES = 50;

/**
 * Codes whose code equals the query, or whose display contains every word of it (case-insensitive),
 * with the value sets that hold them and the rules that use those value sets. Exact code matches first.
 */
export function searchCodes(docs: RulesetDocuments, query: string): CodeSearch {
  const q = query.trim().toLowerCase().slice(0, MAX_CODE_QUERY);
  const words = q.split(/\s+/).filter(Boolean);
  if (words.length === 0) return { codes: [], truncated: false };
  const refs = references(docs);
  const found = new Map<string, CodeMatch & { exact: boolean }>();
  for (const vs of docs.knowledge.valueSets.values()) {
    for (const c of vs.codes.values()) {
      const exact = c.code.toLowerCase() === q;
      const display = (c.display ?? '').toLowerCase();
      if (!exact && !words.every((w) => display.includes(w) || c.code.toLowerCase() === w)) continue;
      const key = `${c.system}|${c.code}`;
      let match = found.get(key);
      if (!match) {
        match = { system: c.system, code: c.code, ...(c.display !== undefined && { display: c.display }), valueSets: [], exact };
        found.set(key, match);
      }
      match.valueSets.push({ name: vs.name, title: vs.title, rules: [...(refs.get(`valueSet:${vs.name}`) ?? [])].sort() });
    }
  }
  const all = [...found.values()].sort((a, b) => Number(b.exact) - Number(a.exact) || a.code.localeCompare(b.code));
  return { codes: all.slice(0, MAX_CODE_MATCHES).map(({ exact: _exact, ...m }) => m), truncated: all.length > MAX_CODE_MATCHES };
}

/**
 * `kind:name` → ids of the rules that name it anywhere in their definition (fact params, threshold
 * values, tables, template placeholders such as `{{threshold.sbp-low}}`). The settings' value sets
 * (inotropes, IV route, weight) are used by every rule, so they are listed as `settings`.
 */
function references(docs: RulesetDocuments): Map<string, Set<string>> {
  const refs = new Map<string, Set<string>>();
  const add = (key: string, id: string) => {
    let set = refs.get(key);
    if (!set) refs.set(key, (set = new Set()));
    set.add(id);
  };
  const thresholdNames = new Set(docs.knowledge.thresholds.keys());
  const tableNames = new Set(docs.knowledge.tables.keys());
  const valueSetNames = new Set(docs.knowledge.valueSets.keys());
  for (const { content } of docs.rules) {
    for (const rule of content.rules) {
      walk(rule, (key, value) => {
        if (typeof value !== 'string') return;
        // `value` covers the inValueSet operator's right-hand side.
        if ((key === 'valueSet' || key === 'value') && valueSetNames.has(value)) add(`valueSet:${value}`, rule.id);
        if (key === 'threshold' && thresholdNames.has(value)) add(`threshold:${value}`, rule.id);
        if (key === 'table' && tableNames.has(value)) add(`table:${value}`, rule.id);
        for (const m of value.matchAll(/\{\{\s*(threshold|table)\.([A-Za-z0-9-]+)/g)) {
          const kind = m[1]!;
          const name = m[2]!;
          if ((kind === 'threshold' ? thresholdNames : tableNames).has(name)) add(`${kind}:${name}`, rule.id);
        }
      });
    }
  }
  const s = docs.settings;
  for (const name of [...s.inotropes, s.ivRoute, s.ivProducts, ...(s.homeOrderCategories !== undefined ? [s.homeOrderCategories] : []), s.weight.valueSet]) add(`valueSet:${name}`, 'settings');
  return refs;
}

/** Calls `visit(key, value)` for every property of a JSON tree (array items get their array's key). */
function walk(node: unknown, visit: (key: string, value: unknown) => void, key = ''): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit, key);
  } else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) walk(v, visit, k);
  } else {
    visit(key, node);
  }
}
