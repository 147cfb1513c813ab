import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { operatorWords } from '../src/shared/operator-words.js';
import { FACTS } from '../src/facts/index.js';
import type { KnowledgeRef, Settings, ValueShape } from '../src/facts/types.js';
import { rulesFileSchema, settingsFileSchema, thresholdsFileSchema, type ConditionNode, type Population, type RuleDefinition, type SettingsFile, type ThresholdsFile } from '../src/rules/file-schemas.js';
import { describeShape } from '../src/rules/shape-check.js';
import { valueSetFileSchema, type ValueSetFile, type ValueSetInclude } from '../src/rules/value-set-file.js';

/**
 * Writes docs/clinical-rules.md from the files in rules/ so the clinical documentation cannot drift from
 * what the service runs. It reads the files with the loader's own schemas (the doc describes the files as
 * a reviewer sees them, not the compiled rules), and asks each fact what its params name (value sets,
 * thresholds, tables), which settings it reads and what its value holds: a new fact or param kind appears
 * here without editing this script. `--check` exits 1 when the committed doc differs from a fresh rendering.
 *
 *   npm run docs:rules             write the doc
 *   npm run docs:rules -- --check  fail when it is stale
 */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DOC_PATH = join(ROOT, 'docs', 'clinical-rules.md');
export const RULES_DIR = join(ROOT, 'rules');

/** Whom a rule is for (the rule's `population`), as the rule list says it. */
const POPULATION: Readonly<Record<Population, string>> = {
  'all-ages': 'living patients of any age',
  adults: 'adults only (not run for a patient younger than settings.adultAge)',
  deceased: 'patients recorded as deceased (then no other rule runs)',
};

type Rule = RuleDefinition;
type Condition = ConditionNode;
type Action = NonNullable<RuleDefinition['card']['suggestions']>[number]['actions'][number];
type Include = ValueSetInclude;
/** What the rule list quotes of a proposed FHIR resource (the loader keeps the resource as written). */
type ProposedResource = { resourceType?: string; code?: { coding?: { system?: string; code?: string; display?: string }[] }; oralDiet?: { type?: { coding?: { code?: string; display?: string }[] }[] } };
type Threshold = NonNullable<ThresholdsFile['thresholds']>[string];
type Table = NonNullable<ThresholdsFile['tables']>[string];

/** The ruleset's files as the loader reads them (its own schemas and types), before any knowledge is built. */
interface Content {
  rules: { file: string; rule: Rule }[];
  thresholds: Map<string, Threshold>;
  tables: Map<string, Table>;
  valueSets: Map<string, ValueSetFile>;
  settings: SettingsFile;
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
];

const SYSTEMS: Readonly<Record<string, string>> = {
  'http://loinc.org': 'LOINC',
  'http://snomed.info/sct': 'SNOMED CT',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
  'http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration': 'HL7 v3 route',
  'http://hl7.org/fhir/sid/icd-10-cm': 'ICD-10-CM',
};

function readJson<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  return schema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function readContent(rulesDir: string = RULES_DIR): Content {
  const rules = jsonFiles(join(rulesDir, 'rules')).flatMap((file) =>
    readJson(join(rulesDir, 'rules', file), rulesFileSchema).rules.map((rule) => ({ file, rule })),
  );
  const thresholds = new Map<string, Threshold>();
  const tables = new Map<string, Table>();
  for (const file of jsonFiles(join(rulesDir, 'thresholds'))) {
    const content = readJson(join(rulesDir, 'thresholds', file), thresholdsFileSchema);
    for (const [name, t] of Object.entries(content.thresholds ?? {})) thresholds.set(name, t);
    for (const [name, t] of Object.entries(content.tables ?? {})) tables.set(name, t);
  }
  const valueSets = new Map<string, ValueSetFile>();
  for (const file of jsonFiles(join(rulesDir, 'value-sets'))) {
    valueSets.set(file.replace(/\.json$/, ''), readJson(join(rulesDir, 'value-sets', file), valueSetFileSchema));
  }
  const settings = readJson(join(rulesDir, 'settings.json'), settingsFileSchema);
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

/** What a rule's conditions and facts name: thresholds, tables, value sets, facts, settings. */
interface Uses {
  thresholds: Set<string>;
  tables: Set<string>;
  valueSets: Set<string>;
  facts: Set<string>;
  settings: Set<keyof Settings>;
}

const REF_KINDS: Readonly<Record<KnowledgeRef['kind'], 'valueSets' | 'thresholds' | 'tables'>> = { valueSet: 'valueSets', threshold: 'thresholds', table: 'tables' };

function usesOf(rule: Rule, content: Content): Uses {
  const uses: Uses = { thresholds: new Set(), tables: new Set(), valueSets: new Set(), facts: new Set(), settings: new Set() };
  // Each fact says what its params name and which settings it reads.
  const fromParams = (fact: string, params: unknown) => {
    uses.facts.add(fact);
    const def = FACTS[fact];
    const parsed = def?.params.safeParse(params);
    if (!def || !parsed?.success) return;
    for (const ref of def.refs(parsed.data, content.settings)) uses[REF_KINDS[ref.kind]].add(ref.name);
    for (const key of def.settings ?? []) uses.settings.add(key);
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
  (rule.card.variants ?? []).forEach((v) => walk(v.when));
  (rule.card.suggestions ?? []).forEach((s) => s.when && walk(s.when));
  const templates = [rule.card.summary, ...(rule.card.variants ?? []).flatMap((v) => (v.summary === undefined ? [] : [v.summary])), ...(rule.card.suggestions ?? []).flatMap((s) => [s.label, ...s.actions.map((a) => a.description)])];
  for (const text of templates) {
    for (const match of text.matchAll(/{{\s*(threshold|table)\.([a-z0-9-]+)/g)) {
      (match[1] === 'threshold' ? uses.thresholds : uses.tables).add(match[2]!);
    }
    // A fact named directly in a template ({{inotropes.names}}) is read too.
    for (const match of text.matchAll(/{{\s*([A-Za-z]+)[.}\s]/g)) if (match[1]! in FACTS && !aliases.has(match[1]!)) fromParams(match[1]!, undefined);
  }
  return uses;
}

/** One setting as the rule list shows it: `settings.inotropes: milrinone, dobutamine`. */
function settingText(key: keyof Settings, settings: SettingsFile): string {
  // The Y-site grades: one line per pair, so a reviewer reads each grade with its source.
  if (key === 'lineCompatibility') {
    const pairs = settings.lineCompatibility.map((p) => `  - ${p.inotrope} + ${p.with.join(', ')}: **${p.grade}** — ${cell(p.finding)} (source: ${cell(p.source)})`);
    return ['settings.lineCompatibility (Y-site grades):', ...pairs].join('\n');
  }
  const value: unknown = settings[key];
  const text = (v: unknown): string =>
    Array.isArray(v) ? v.map(text).join(', ') : typeof v === 'object' && v !== null ? Object.entries(v).map(([k, x]) => `${k} ${text(x)}`).join(', ') : String(v);
  return `settings.${key}: ${text(value)}`;
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
  const resource = a.resource as ProposedResource | undefined;
  const coding = resource?.code?.coding?.[0] ?? resource?.oralDiet?.type?.[0]?.coding?.[0];
  const system = resource?.code?.coding?.[0]?.system;
  const code = coding ? ` ${system ? `${SYSTEMS[system] ?? system} ` : 'SNOMED CT '}${coding.code} "${coding.display ?? ''}"` : '';
  return `create ${resource?.resourceType ?? 'resource'}${code} (intent proposal)`;
}

function ruleSection(rule: Rule, file: string, content: Content): string[] {
  const uses = usesOf(rule, content);
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
  for (const note of rule.card.notes ?? []) {
    if (note.when) lines.push(`**Added to the detail** ("${cell(note.text)}") **only when also:**`, '', ...conditionLines(note.when, rule, content, 0), '');
    else lines.push(`**Added to the detail, always** ("${cell(note.text)}")`, '');
  }
  for (const v of rule.card.variants ?? []) {
    lines.push(`**Worded differently${v.summary === undefined ? ' (detail)' : `: \`${cell(v.summary)}\``} when:**`, '', ...conditionLines(v.when, rule, content, 0), '');
  }
  if (rule.card.preparesDraft) lines.push('**Prepares the draft:** left out when a critical card of the same response removes the draft.', '');
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
  const fromSettings = [...uses.settings].filter((key) => key !== 'overrideReasons' && key !== 'source').map((key) => settingText(key, content.settings));
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

function valueSetSection(name: string, vs: ValueSetFile, content: Content): string[] {
  const lines = [`### \`${name}\` — ${vs.title}`, ''];
  if (vs.url && !vs.url.startsWith('urn:inotrope-cds:')) lines.push(`Published set: ${vs.url}${vs.version ? ` version ${vs.version}` : ''}`, '');
  if (vs.source) lines.push(cell(vs.source), '');
  if (vs.molarMass) lines.push(`Molar mass: ${quantity(vs.molarMass.value, vs.molarMass.unit)}`, '');
  if (vs.matchText) lines.push(`Also recognised by name: ${vs.matchText.map((t) => `"${t}"`).join(', ')}.`, '');
  const byUrl = new Map([...content.valueSets].map(([n, v]) => [v.url ?? `urn:inotrope-cds:value-set:${n}`, n]));
  const parts = (includes: readonly Include[] | undefined, verb: string): void => {
    for (const inc of includes ?? []) {
      for (const ref of inc.valueSet ?? []) lines.push(`${verb} every code of \`${byUrl.get(ref.split('|')[0]!) ?? ref}\`.`, '');
      for (const f of inc.filter ?? []) lines.push(`${verb} ${SYSTEMS[inc.system ?? ''] ?? inc.system} ${f.value}${f.op === 'is-a' ? ' and every code below it' : ' (only the codes below it)'}.`, '');
    }
  };
  parts(vs.compose?.include, 'Includes');
  parts(vs.compose?.exclude, 'Excludes');
  const listed = (vs.compose?.include ?? []).filter((inc) => inc.concept);
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
  const excluded = (vs.compose?.exclude ?? []).flatMap((inc) => (inc.concept ?? []).map((c) => `${SYSTEMS[inc.system ?? ''] ?? inc.system} ${c.code}${c.display ? ` (${cell(c.display)})` : ''}`));
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
  lines.push(...factsSection());
  lines.push('## Thresholds', '', '| Name | Value | Max age | Source |', '|---|---|---|---|');
  for (const [name, t] of [...content.thresholds].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`| \`${name}\` | ${quantity(t.value, t.unit)} | ${t.maxAge ?? '—'} | ${cell(t.source ?? '')} |`);
  }
  lines.push('', '## Value sets', '');
  for (const [name, vs] of [...content.valueSets].sort(([a], [b]) => a.localeCompare(b))) lines.push(...valueSetSection(name, vs, content));
  return `${lines.join('\n').trimEnd()}\n`;
}

/**
 * Every fact as it declares itself (src/facts/): its params, the settings it reads, and the paths a condition
 * may compare with what each holds. A new fact or param appears here without editing this script.
 */
function factsSection(): string[] {
  const lines = [
    '## Facts',
    '',
    'What each fact takes and gives, as the facts declare it: the params a rule writes, the settings it reads and the',
    'paths a condition may compare. The loader refuses any other path, and a literal outside an enumeration.',
    '',
  ];
  for (const [id, def] of Object.entries(FACTS)) {
    lines.push(`### \`${id}\``, '');
    if (def.scope === 'order') lines.push('Order scope: only in rules with `"scope": "order"` (the order being checked).', '');
    const params = paramLines(def.params);
    lines.push(params.length > 0 ? '**Params:**' : '**Params:** none', '', ...params, ...(params.length > 0 ? [''] : []));
    if (def.settings?.length) lines.push(`**Settings read:** ${def.settings.map((k) => `\`${k}\``).join(', ')}`, '');
    lines.push('**Value:**', '', ...shapeLines(def.value, '$'), '');
  }
  return lines;
}

/** The params as the fact's own schema describes them (names, types, whether required, descriptions). */
function paramLines(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonProperty>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, p]) => {
    const required = json.required?.includes(name) ? ', required' : '';
    return `- \`${name}\` (${typeText(p)}${required})${p.description ? `: ${cell(p.description)}` : ''}`;
  });
}

interface JsonProperty {
  type?: string;
  description?: string;
  items?: JsonProperty;
  properties?: Record<string, JsonProperty>;
}

function typeText(p: JsonProperty): string {
  if (p.type === 'array' && p.items) return `list of ${typeText(p.items)}`;
  if (p.type === 'object' && p.properties) return `{ ${Object.keys(p.properties).join(', ')} }`;
  return p.type ?? 'any';
}

function shapeLines(shape: ValueShape, path: string): string[] {
  if (shape.kind === 'object') {
    const own = path === '$' ? [] : [`- \`${path}\`: an object`];
    return [...own, ...Object.entries(shape.fields).flatMap(([key, field]) => shapeLines(field, `${path}.${key}`))];
  }
  if (shape.kind === 'list') {
    if (shape.of.kind === 'object') return [`- \`${path}\`: a list`, ...shapeLines(shape.of, `${path}[*]`)];
    return [`- \`${path}\`: a list of ${describeShape(shape.of).replace(/^an? /, '')}${shape.of.kind === 'any' ? '' : 's'}`];
  }
  return [`- \`${path}\`: ${describeShape(shape)}`];
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
