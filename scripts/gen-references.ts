import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * docs/references.md's "where it is used" column, derived from rules/: for each source key, every rule,
 * value set, threshold, table and Y-site grade (settings.lineCompatibility) that cites it. The rest of the table (origin, what we take) is written by hand.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const json = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;

type Sourced = Record<string, { source?: string }>;

/** What each rule, value set, threshold and table cites (its references or source, as text), by the name the table gives it. */
export function citations(): Map<string, string> {
  const cited = new Map<string, string>();
  for (const file of readdirSync(join(ROOT, 'rules/rules')).filter((f) => f.endsWith('.json'))) {
    for (const rule of json(`rules/rules/${file}`).rules as { id: string; references?: unknown[] }[]) {
      cited.set(`rule ${rule.id}`, JSON.stringify(rule.references ?? []));
    }
  }
  for (const file of readdirSync(join(ROOT, 'rules/value-sets')).filter((f) => f.endsWith('.json'))) {
    cited.set(`value set ${file.slice(0, -'.json'.length)}`, String(json(`rules/value-sets/${file}`).source ?? ''));
  }
  const { lineCompatibility } = json('rules/settings.json') as { lineCompatibility?: { inotrope: string; with: string[]; source: string }[] };
  for (const pair of lineCompatibility ?? []) for (const drug of pair.with) cited.set(`Y-site grade ${pair.inotrope} + ${drug}`, pair.source);
  const { thresholds, tables } = json('rules/thresholds/thresholds.json') as { thresholds: Sourced; tables: Sourced };
  for (const [name, t] of Object.entries(thresholds)) cited.set(`threshold ${name}`, t.source ?? '');
  for (const [name, t] of Object.entries(tables)) cited.set(`table ${name}`, t.source ?? '');
  return cited;
}

/** A key as a whole token: `WEBMD` is not cited by `SEED-WEBMD`. */
export const citesKey = (key: string) => new RegExp(`(?<![\\w-])${key.replace(/[-]/g, '\\-')}(?![\\w-])`);

/** A source row of the table: `| KEY | origin | what we take | where used |`. */
export const ROW = /^\| ([A-Z0-9][A-Z0-9-]*) \| (.*) \| ([^|]*) \|$/gm;

/** docs/references.md with each row's last column rewritten from what cites its key. */
export function renderReferences(): string {
  const text = readFileSync(join(ROOT, 'docs/references.md'), 'utf8');
  const cited = [...citations()];
  return text.replace(ROW, (_row, key: string, middle: string) => {
    const used = cited.filter(([, t]) => citesKey(key).test(t)).map(([item]) => item).sort();
    return `| ${key} | ${middle} | ${used.length === 0 ? '—' : used.join(', ')} |`;
  });
}
