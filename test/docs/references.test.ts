import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { citations, citesKey, ROW } from '../../scripts/gen-references.js';

/** docs/references.md against rules/: every cited key has a row, and every clinical rule, threshold, table and value set cites a source. */

const ROOT = path.resolve(import.meta.dirname, '../..');
const json = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;

type Rule = { id: string; category: string; references?: unknown[] };

/** The key column and the "where it is used" column of each row of the table. */
function rows(): { key: string; used: string[] }[] {
  const text = readFileSync(path.join(ROOT, 'docs/references.md'), 'utf8');
  return [...text.matchAll(ROW)].map((m) => ({
    key: m[1]!,
    used: m[3]!.trim() === '—' ? [] : m[3]!.split(',').map((s) => s.trim()),
  }));
}

describe('docs/references.md', () => {
  const cited = citations();
  const table = rows();

  it('reads the table and the rules', () => {
    expect(table.map((r) => r.key)).toEqual(expect.arrayContaining(['LBL-MIL', 'LBL-DOB', 'G2013', 'VSAC', 'GPS']));
    expect(cited.get('rule DOSE-MIL-RENAL')).toContain('LBL-MIL');
  });

  it('names in "where it is used" only things that exist (the column itself is derived: npm run rules:build)', () => {
    for (const { key, used } of table) for (const item of used) expect(cited.has(item), `${key}: ${item} does not exist`).toBe(true);
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
