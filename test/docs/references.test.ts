import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** docs/references.md against rules/: every key's "where it is used" is exactly what cites the key. */

const ROOT = path.resolve(import.meta.dirname, '../..');
const json = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;

type Rule = { id: string; category: string; references?: unknown[] };
type Sourced = Record<string, { source?: string }>;

/** What each rule, value set, threshold and table cites, by the name references.md gives it. */
function citations(): Map<string, string> {
  const cited = new Map<string, string>();
  for (const file of readdirSync(path.join(ROOT, 'rules/rules')).filter((f) => f.endsWith('.json'))) {
    for (const rule of json(`rules/rules/${file}`).rules as Rule[]) cited.set(`rule ${rule.id}`, JSON.stringify(rule.references ?? []));
  }
  for (const file of readdirSync(path.join(ROOT, 'rules/value-sets')).filter((f) => f.endsWith('.json'))) {
    cited.set(`value set ${file.slice(0, -'.json'.length)}`, String(json(`rules/value-sets/${file}`).source ?? ''));
  }
  const { thresholds, tables } = json('rules/thresholds/thresholds.json') as { thresholds: Sourced; tables: Sourced };
  for (const [name, t] of Object.entries(thresholds)) cited.set(`threshold ${name}`, t.source ?? '');
  for (const [name, t] of Object.entries(tables)) cited.set(`table ${name}`, t.source ?? '');
  return cited;
}

/** The key column and the "where it is used" column of each row of the table. */
function rows(): { key: string; used: string[] }[] {
  const text = readFileSync(path.join(ROOT, 'docs/references.md'), 'utf8');
  return [...text.matchAll(/^\| ([A-Z0-9][A-Z0-9-]*) \| .* \| ([^|]*) \|$/gm)].map((m) => ({
    key: m[1]!,
    used: m[2]!.trim() === '—' ? [] : m[2]!.split(',').map((s) => s.trim()),
  }));
}

/** A key as a whole token: `WEBMD` is not cited by `SEED-WEBMD`. */
const citesKey = (key: string) => new RegExp(`(?<![\\w-])${key.replace(/[-]/g, '\\-')}(?![\\w-])`);

describe('docs/references.md', () => {
  const cited = citations();
  const table = rows();

  it('reads the table and the rules', () => {
    expect(table.map((r) => r.key)).toEqual(expect.arrayContaining(['LBL-MIL', 'LBL-DOB', 'G2013', 'VSAC', 'GPS']));
    expect(cited.get('rule DOSE-MIL-RENAL')).toContain('LBL-MIL');
  });

  it('lists, for each source, exactly the rules, value sets, thresholds and tables that cite it', () => {
    for (const { key, used } of table) {
      for (const item of used) expect(cited.has(item), `${key}: ${item} does not exist`).toBe(true);
      const citing = [...cited].filter(([, text]) => citesKey(key).test(text)).map(([item]) => item);
      expect([...used].sort(), key).toEqual(citing.sort());
    }
  });

  it('has a row for every key a rule cites, and every clinical rule, threshold and table cites one', () => {
    const keys = new Set(table.map((r) => r.key));
    for (const [item, text] of cited) {
      // Rules list their keys before "(docs/references.md)".
      for (const m of text.matchAll(/"label":"([^"]*) \(docs\/references\.md\)/g)) {
        for (const key of m[1]!.split(', ')) expect(keys.has(key), `${item} cites ${key}`).toBe(true);
      }
    }
    const clinical = [...cited].filter(([item]) => /^(threshold|table) /.test(item));
    for (const file of readdirSync(path.join(ROOT, 'rules/rules')).filter((f) => f.endsWith('.json'))) {
      for (const rule of json(`rules/rules/${file}`).rules as Rule[]) {
        if (rule.category !== 'data-quality') clinical.push([`rule ${rule.id}`, cited.get(`rule ${rule.id}`)!]);
      }
    }
    for (const [item, text] of clinical) expect([...keys].some((k) => citesKey(k).test(text)), `${item} cites no source of references.md`).toBe(true);
  });

  it('every value set cites a source of references.md or a VSAC OID', () => {
    const keys = table.map((r) => r.key);
    for (const [item, text] of cited) {
      if (!item.startsWith('value set ')) continue;
      expect(keys.some((k) => citesKey(k).test(text)) || /\bOID (urn:oid:)?[\d.]+/.test(text), item).toBe(true);
    }
  });
});
