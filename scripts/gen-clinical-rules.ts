import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { operatorWords } from '../src/shared/operator-words.js';

/**
 * Writes docs/clinical-rules.md from the files in rules/ so the clinical documentation cannot drift from
 * what the service runs. It reads the JSON directly (no engine code): the doc must describe the files
 * as a reviewer sees them. `--check` exits 1 when the committed doc differs from a fresh rendering.
 *
 *   npm run docs:rules             write the doc
 *   npm run docs:rules -- --check  fail when it is stale
 */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DOC_PATH = join(ROOT, 'docs', 'clinical-rules.md');
export const RULES_DIR = join(ROOT, 'rules');

interface Condition {
  all?: Condition[];
  any?: Condition[];
  not?: Condition;
  fact?: string;
  params?: Record<string, unknown>;
  path?: string;
  operator?: string;
  value?: unknown;
}

interface Action {
  type: string;
  description: string;
  rate?: number | string;
  resource?: { resourceType?: string; code?: { coding?: { system?: string; code?: string; display?: string }[] }; oralDiet?: { type?: { coding?: { code?: string; display?: string }[] }[] } };
}

/** Whom a rule is for (the rule's `population`), as the rule list says it. */
const POPULATION = {
  'all-ages': 'living patients of any age',
  adults: 'adults only (not run for a patient younger than settings.adultAge)',
  deceased: 'patients recorded as deceased (then no other rule runs)',
} as const;

interface Rule {
  id: string;
  version: string;
  title: string;
  description?: string;
  category: string;
  hooks: string[];
  status: string;
  scope?: string;
  requiresInotrope?: boolean;
  population?: 'all-ages' | 'adults' | 'deceased';
  references: { label: string; url?: string }[];
  facts?: Record<string, { fact: string; params?: Record<string, unknown> }>;
  conditions: Condition;
  card: {
    indicator: string;
    summary: string;
    selectionBehavior?: string;
    escalate?: { indicator: string; when: Condition };
    suggestions?: { label: string; isRecommended?: boolean; when?: Condition; actions: Action[] }[];
    overrideReasons?: { display: string }[];
  };
}

interface Threshold {
  value: number;
  unit: string;
  maxAge?: string;
  source?: string;
}

interface Table {
  input: { unit: string };
  output: { unit: string };
  method: string;
  rows: [number, number][];
  source?: string;
}

interface Include {
  system?: string;
  concept?: { code: string; display?: string; concentration?: { value: number; unit: string } }[];
  filter?: { op: string; value: string }[];
  valueSet?: string[];
}

interface ValueSet {
  title: string;
  url?: string;
  version?: string;
  source?: string;
  molarMass?: { value: number; unit: string };
  compose: { include: Include[]; exclude?: Include[] };
}

interface Settings {
  inotropes: string[];
  ivRoute: string;
  ivProducts: string;
  weight: { valueSet: string; maxAge: string };
  overrideReasons: { display: string }[];
}

interface Content {
  rules: { file: string; rule: Rule }[];
  thresholds: Map<string, Threshold>;
  tables: Map<string, Table>;
  valueSets: Map<string, ValueSet>;
  settings: Settings;
}

/** Category order and headings as in the rule catalog. */
const CATEGORIES: readonly [string, string][] = [
  ['eligibility', 'Eligibility'],
  ['contraindication', 'Contraindications (label)'],
  ['precaution', 'Precautions (label warnings and precautions)'],
  ['interaction', 'Drug interactions'],
  ['dosing', 'Dosing and duration'],
  ['alcohol', 'Alcohol'],
  ['iv-line', 'IV line'],
  ['duplicate-therapy', 'Duplicate therapy'],
  ['monitoring', 'Monitoring'],
  ['discharge', 'Discharge'],
  ['data-quality', 'Data quality'],
  ['discharge', 'Discharge'],
];

const SYSTEMS: Readonly<Record<string, string>> = {
  'http://loinc.org': 'LOINC',
  'http://snomed.info/sct': 'SNOMED CT',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
  'http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration': 'HL7 v3 route',
  'http://hl7.org/fhir/sid/icd-10-cm': 'ICD-10-CM',
};

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function readContent(rulesDir: string = RULES_DIR): Content {
  const rules = jsonFiles(join(rulesDir, 'rules')).flatMap((file) =>
    readJson<{ rules: Rule[] }>(join(rulesDir, 'rules', file)).rules.map((rule) => ({ file, rule })),
  );
  const thresholds = new Map<string, Threshold>();
  const tables = new Map<string, Table>();
  for (const file of jsonFiles(join(rulesDir, 'thresholds'))) {
    const content = readJson<{ thresholds?: Record<string, Threshold>; tables?: Record<string, Table> }>(join(rulesDir, 'thresholds', file));
    for (const [name, t] of Object.entries(content.thresholds ?? {})) thresholds.set(name, t);
    for (const [name, t] of Object.entries(content.tables ?? {})) tables.set(name, t);
  }
  const valueSets = new Map<string, ValueSet>();
  for (const file of jsonFiles(join(rulesDir, 'value-sets'))) {
    valueSets.set(file.replace(/\.json$/, ''), readJson<ValueSet>(join(rulesDir, 'value-sets', file)));
  }
  const settings = readJson<Settings>(join(rulesDir, 'settings.json'));
  return { rules, thresholds, tables, valueSets, settings };
}

/** Table cells and inline text: one line, no pipes. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

/** A value with its UCUM unit in code style (units such as 10*3/uL would otherwise turn into emphasis). */
function quantity(value: number, unit: string): string {
  return `${value} \`${unit}\``;
}

function thresholdText(name: string, content: Content): string {
  const t = content.thresholds.get(name);
  if (!t) return `\`${name}\` (not defined)`;
  return `${quantity(t.value, t.unit)}${t.maxAge ? `, within ${t.maxAge}` : ''}`;
}

/** What a rule's conditions and facts name: thresholds, tables, value sets, facts. */
interface Uses {
  thresholds: Set<string>;
  tables: Set<string>;
  valueSets: Set<string>;
  facts: Set<string>;
}

function usesOf(rule: Rule): Uses {
  const uses: Uses = { thresholds: new Set(), tables: new Set(), valueSets: new Set(), facts: new Set() };
  const fromParams = (fact: string, params: Record<string, unknown> | undefined) => {
    uses.facts.add(fact);
    if (!params) return;
    if (typeof params.valueSet === 'string') uses.valueSets.add(params.valueSet);
    if (typeof params.threshold === 'string') uses.thresholds.add(params.threshold);
    if (typeof params.table === 'string') uses.tables.add(params.table);
    const observation = params.observation as { valueSet?: unknown } | undefined;
    if (typeof observation?.valueSet === 'string') uses.valueSets.add(observation.valueSet);
    const pairs = Array.isArray(params.pairs) ? (params.pairs as { inotrope?: unknown; with?: unknown }[]) : [];
    for (const pair of pairs) {
      if (typeof pair.inotrope === 'string') uses.valueSets.add(pair.inotrope);
      if (Array.isArray(pair.with)) pair.with.filter((w): w is string => typeof w === 'string').forEach((w) => uses.valueSets.add(w));
    }
  };
  for (const local of Object.values(rule.facts ?? {})) fromParams(local.fact, local.params);
  const aliases = new Set(Object.keys(rule.facts ?? {}));
  const walk = (c: Condition) => {
    c.all?.forEach(walk);
    c.any?.forEach(walk);
    if (c.not) walk(c.not);
    if (c.fact && !aliases.has(c.fact)) fromParams(c.fact, c.params);
    const value = c.value as { threshold?: unknown; fact?: unknown; params?: Record<string, unknown> } | undefined;
    if (typeof value?.threshold === 'string') uses.thresholds.add(value.threshold);
    if (typeof value?.fact === 'string' && !aliases.has(value.fact)) fromParams(value.fact, value.params);
    if (c.operator === 'inValueSet' && typeof c.value === 'string') uses.valueSets.add(c.value);
  };
  walk(rule.conditions);
  if (rule.card.escalate) walk(rule.card.escalate.when);
  (rule.card.suggestions ?? []).forEach((s) => s.when && walk(s.when));
  const templates = [rule.card.summary, ...(rule.card.suggestions ?? []).flatMap((s) => [s.label, ...s.actions.map((a) => a.description)])];
  for (const text of templates) {
    for (const match of text.matchAll(/{{\s*(threshold|table)\.([a-z0-9-]+)/g)) {
      (match[1] === 'threshold' ? uses.thresholds : uses.tables).add(match[2]!);
    }
  }
  return uses;
}

function valueText(value: unknown, content: Content): string {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = value as { threshold?: string; fact?: string; path?: string };
    if (v.threshold) return `${thresholdText(v.threshold, content)} (threshold \`${v.threshold}\`)`;
    if (v.fact) return `\`${v.fact}${v.path ? ` ${v.path}` : ''}\``;
  }
  if (Array.isArray(value)) return value.map((v) => `\`${String(v)}\``).join(', ');
  return `\`${String(value)}\``;
}

function leafText(c: Condition, rule: Rule, content: Content): string {
  const local = c.fact ? rule.facts?.[c.fact] : undefined;
  const factParams = local?.params ?? c.params;
  const params = factParams && Object.keys(factParams).length > 0 ? ` ${JSON.stringify(factParams)}` : '';
  const subject = `\`${c.fact}\`${local ? ` (${local.fact}${params})` : params}${c.path ? ` \`${c.path}\`` : ''}`;
  const words = operatorWords(c.operator ?? '', c.value);
  return c.operator === 'exists' ? `${subject} ${words}` : `${subject} ${words} ${valueText(c.value, content)}`;
}

/** The condition tree as a nested markdown list: the trigger as the engine evaluates it. */
function conditionLines(c: Condition, rule: Rule, content: Content, depth: number): string[] {
  const indent = '  '.repeat(depth);
  if (c.all) return [`${indent}- all of:`, ...c.all.flatMap((x) => conditionLines(x, rule, content, depth + 1))];
  if (c.any) return [`${indent}- any of:`, ...c.any.flatMap((x) => conditionLines(x, rule, content, depth + 1))];
  if (c.not) return [`${indent}- not:`, ...conditionLines(c.not, rule, content, depth + 1)];
  return [`${indent}- ${leafText(c, rule, content)}`];
}

function actionText(a: Action): string {
  if (a.type === 'update-draft-rate') return `update the draft order's rate to ${typeof a.rate === 'number' ? a.rate : `\`${a.rate}\``} ug/kg/min`;
  if (a.type === 'delete-draft') return 'delete the draft order';
  const resource = a.resource;
  const coding = resource?.code?.coding?.[0] ?? resource?.oralDiet?.type?.[0]?.coding?.[0];
  const system = resource?.code?.coding?.[0]?.system;
  const code = coding ? ` ${system ? `${SYSTEMS[system] ?? system} ` : 'SNOMED CT '}${coding.code} "${coding.display ?? ''}"` : '';
  return `create ${resource?.resourceType ?? 'resource'}${code} (intent proposal)`;
}

function settingsUses(uses: Uses, content: Content): string[] {
  const { settings } = content;
  const lines: string[] = [];
  if (uses.facts.has('order')) {
    lines.push(`settings: inotropes (${settings.inotropes.join(', ')}); body weight from \`${settings.weight.valueSet}\` within ${settings.weight.maxAge}`);
  } else if (uses.facts.has('inotropes')) {
    lines.push(`settings: inotropes (${settings.inotropes.join(', ')})`);
  }
  if (uses.facts.has('ivMedications') || uses.facts.has('coadministered')) {
    lines.push(`settings: IV by route \`${settings.ivRoute}\` or product \`${settings.ivProducts}\``);
  }
  return lines;
}

function ruleSection(rule: Rule, file: string, content: Content): string[] {
  const uses = usesOf(rule);
  const hooks = rule.hooks.join(', ');
  const lines = [
    `### ${rule.id} — ${rule.title}`,
    '',
    `| | |`,
    `|---|---|`,
    `| Version | ${rule.version} |`,
    `| Status | ${rule.status} |`,
    `| Category (\`source.topic.code\`) | ${rule.category} |`,
    `| Indicator | ${rule.card.indicator}${rule.card.escalate ? ` (${rule.card.escalate.indicator} when the escalation condition holds)` : ''} |`,
    `| Hooks | ${hooks} |`,
    `| Scope | ${rule.scope ?? 'patient'}${rule.requiresInotrope === false ? '; runs even without an inotrope order' : '; only when an inotrope is ordered or active'} |`,
    `| For | ${POPULATION[rule.population ?? 'all-ages']} |`,
    `| File | \`rules/rules/${file}\` |`,
    '',
  ];
  if (rule.description) lines.push(`**Trigger.** ${rule.description}`, '');
  lines.push('**Conditions** (as evaluated):', '', ...conditionLines(rule.conditions, rule, content, 0), '');
  if (rule.card.escalate) {
    lines.push(`**Escalates to ${rule.card.escalate.indicator} when also:**`, '', ...conditionLines(rule.card.escalate.when, rule, content, 0), '');
  }
  lines.push(`**Card summary template:** \`${cell(rule.card.summary)}\``, '');
  const suggestions = rule.card.suggestions ?? [];
  if (suggestions.length > 0) {
    lines.push(`**Suggestions** (selection: ${rule.card.selectionBehavior ?? 'at-most-one'}):`, '');
    for (const s of suggestions) {
      lines.push(`- ${cell(s.label)}${s.isRecommended ? ' (recommended)' : ''}: ${s.actions.map(actionText).join('; ')}${s.when ? '; offered only when:' : ''}`);
      if (s.when) lines.push(...conditionLines(s.when, rule, content, 1));
    }
    lines.push('');
  } else {
    lines.push('**Suggestions:** none', '');
  }
  if (rule.card.overrideReasons) {
    lines.push(`**Override reasons:** ${rule.card.overrideReasons.map((r) => r.display).join('; ')}`, '');
  } else if (rule.card.indicator !== 'info') {
    lines.push(`**Override reasons:** ${content.settings.overrideReasons.map((r) => r.display).join('; ')} (settings)`, '');
  }
  const thresholds = [...uses.thresholds].sort();
  if (thresholds.length > 0) {
    lines.push('**Thresholds:**', '');
    for (const name of thresholds) {
      const source = content.thresholds.get(name)?.source;
      lines.push(`- \`${name}\`: ${thresholdText(name, content)}${source ? ` — ${cell(source)}` : ''}`);
    }
    lines.push('');
  }
  for (const name of [...uses.tables].sort()) {
    const t = content.tables.get(name);
    if (!t) continue;
    const rows = t.rows.map(([i, o]) => `${i} → ${o}`).join(', ');
    lines.push(`**Table \`${name}\`** (${t.method}; ${t.input.unit} → ${t.output.unit}): ${rows}${t.source ? ` — ${cell(t.source)}` : ''}`, '');
  }
  const valueSets = [...uses.valueSets].sort();
  const fromSettings = settingsUses(uses, content);
  if (valueSets.length > 0 || fromSettings.length > 0) {
    lines.push('**Value sets:**', '');
    for (const name of valueSets) {
      const vs = content.valueSets.get(name);
      lines.push(`- \`${name}\`${vs ? ` (${vs.title})` : ' (not defined)'}`);
    }
    fromSettings.forEach((s) => lines.push(`- ${s}`));
    lines.push('');
  }
  lines.push('**Sources:**', '');
  for (const r of rule.references) lines.push(`- ${r.url ? `[${cell(r.label)}](${r.url})` : cell(r.label)}`);
  lines.push('');
  return lines;
}

function valueSetSection(name: string, vs: ValueSet, content: Content): string[] {
  const lines = [`### \`${name}\` — ${vs.title}`, ''];
  if (vs.url && !vs.url.startsWith('urn:inotrope-cds:')) lines.push(`Published set: ${vs.url}${vs.version ? ` version ${vs.version}` : ''}`, '');
  if (vs.source) lines.push(cell(vs.source), '');
  if (vs.molarMass) lines.push(`Molar mass: ${quantity(vs.molarMass.value, vs.molarMass.unit)}`, '');
  const byUrl = new Map([...content.valueSets].map(([n, v]) => [v.url ?? `urn:inotrope-cds:value-set:${n}`, n]));
  const parts = (includes: readonly Include[] | undefined, verb: string): void => {
    for (const inc of includes ?? []) {
      for (const ref of inc.valueSet ?? []) lines.push(`${verb} every code of \`${byUrl.get(ref.split('|')[0]!) ?? ref}\`.`, '');
      for (const f of inc.filter ?? []) lines.push(`${verb} ${SYSTEMS[inc.system ?? ''] ?? inc.system} ${f.value}${f.op === 'is-a' ? ' and every code below it' : ' (only the codes below it)'}.`, '');
    }
  };
  parts(vs.compose.include, 'Includes');
  parts(vs.compose.exclude, 'Excludes');
  const listed = vs.compose.include.filter((inc) => inc.concept);
  const published = vs.url !== undefined && !vs.url.startsWith('urn:inotrope-cds:');
  if (published) {
    // A published expansion is long and kept as published: its size per code system, not every code.
    const counts = listed.map((inc) => `${SYSTEMS[inc.system ?? ''] ?? inc.system} ${inc.concept?.length ?? 0}`);
    lines.push(`Codes as published: ${counts.join(', ')}.`, '');
  } else if (listed.length > 0) {
    lines.push('| System | Code | Display | Concentration |', '|---|---|---|---|');
    for (const inc of listed) {
      for (const c of inc.concept ?? []) {
        const concentration = c.concentration ? quantity(c.concentration.value, c.concentration.unit) : '';
        lines.push(`| ${SYSTEMS[inc.system ?? ''] ?? inc.system} | ${c.code} | ${cell(c.display ?? '')} | ${concentration} |`);
      }
    }
    lines.push('');
  }
  const excluded = (vs.compose.exclude ?? []).flatMap((inc) => (inc.concept ?? []).map((c) => `${SYSTEMS[inc.system ?? ''] ?? inc.system} ${c.code}${c.display ? ` (${cell(c.display)})` : ''}`));
  if (excluded.length > 0) lines.push(`Excluded: ${excluded.join('; ')}.`, '');
  return lines;
}

export function renderClinicalRules(rulesDir: string = RULES_DIR): string {
  const content = readContent(rulesDir);
  const byCategory = CATEGORIES.map(([category, heading]) => ({
    heading,
    rules: content.rules.filter((r) => r.rule.category === category),
  }));
  const lines = [
    '# Clinical rules',
    '',
    '<!-- Generated by scripts/gen-clinical-rules.ts from rules/. Do not edit: run `npm run docs:rules`. CI fails when this file is stale. -->',
    '',
    'Every rule the service ships, as its files in `rules/` define it: trigger, indicator, suggestions, thresholds,',
    'value sets and sources. Thresholds are site defaults; values older than a threshold\'s max age count as missing.',
    '',
    'Reading the conditions: `inotropes $.draft` is an inotrope being ordered in this call; `order-entry` is true when the',
    'call carries draft orders (order-select, order-sign) and false in patient-view; `order` is the inotrope order a',
    'dosing rule checks, with its rate normalised to ug/kg/min; "is empty or absent" means no usable value within the max age.',
    '',
    '| Rule | Category | Indicator | Hooks | Scope | Title |',
    '|---|---|---|---|---|---|',
    ...byCategory.flatMap((c) =>
      c.rules.map(
        ({ rule }) =>
          `| [${rule.id}](#${anchor(rule)}) | ${rule.category} | ${rule.card.indicator}${rule.card.escalate ? ` / ${rule.card.escalate.indicator}` : ''} | ${rule.hooks.join(', ')} | ${rule.scope ?? 'patient'} | ${cell(rule.title)} |`,
      ),
    ),
    '',
  ];
  for (const c of byCategory) {
    if (c.rules.length === 0) continue;
    lines.push(`## ${c.heading}`, '');
    for (const { rule, file } of c.rules) lines.push(...ruleSection(rule, file, content));
  }
  lines.push('## Thresholds', '', '| Name | Value | Max age | Source |', '|---|---|---|---|');
  for (const [name, t] of [...content.thresholds].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`| \`${name}\` | ${quantity(t.value, t.unit)} | ${t.maxAge ?? '—'} | ${cell(t.source ?? '')} |`);
  }
  lines.push('', '## Value sets', '');
  for (const [name, vs] of [...content.valueSets].sort(([a], [b]) => a.localeCompare(b))) lines.push(...valueSetSection(name, vs, content));
  return `${lines.join('\n').trimEnd()}\n`;
}

/** GitHub's heading anchor for a rule section. */
function anchor(rule: Rule): string {
  return `${rule.id} — ${rule.title}`
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

/** True when the doc at `docPath` is what the rules render to. */
export function isCurrent(docPath: string = DOC_PATH, rulesDir: string = RULES_DIR): boolean {
  let committed: string;
  try {
    committed = readFileSync(docPath, 'utf8');
  } catch {
    return false;
  }
  return committed === renderClinicalRules(rulesDir);
}

function main(args: readonly string[]): number {
  if (args.includes('--check')) {
    if (isCurrent()) {
      console.log('docs/clinical-rules.md is up to date');
      return 0;
    }
    console.error('docs/clinical-rules.md is stale: run `npm run docs:rules` and commit the result');
    return 1;
  }
  writeFileSync(DOC_PATH, renderClinicalRules());
  console.log('wrote docs/clinical-rules.md');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
