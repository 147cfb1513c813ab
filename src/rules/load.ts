import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { HOOKS, type Hook } from '../shared/hooks.js';
import type { DataRequirement } from '../shared/patient-data.js';
import { FACTS, mergeObservationReads } from '../facts/index.js';
import { MEDICATIONS_REQUIREMENT, mergeRequirements, observationRequirement } from '../facts/requirements.js';
import type { Knowledge, ObservationRead } from '../facts/types.js';
import { RuleCompiler, type CompiledRule, type FactRegistry } from './compile.js';
import { createRuleset } from './evaluate.js';
import { rulesFileSchema, settingsFileSchema, thresholdsFileSchema } from './file-schemas.js';
import { valueSetName } from './expand-value-sets.js';
import { valueSetFileSchema } from './value-set-file.js';
import { buildKnowledge, type KnowledgeFiles } from './knowledge.js';
import { RulesetLoadError, zodErrors, type LoadError } from './load-error.js';
import type { Ruleset } from './ruleset.js';
import { parseJsonText } from '../shared/json-text.js';

export type LoadResult = { ok: true; ruleset: Ruleset } | { ok: false; errors: LoadError[] };

/** The folders of RULES_DIR that make up the ruleset (tests/ and schema/ do not). */
const KNOWLEDGE_DIRS = ['rules', 'value-sets', 'thresholds'] as const;

/**
 * Reads and validates every file of the ruleset in `dir` and builds the Ruleset. Every mistake is
 * reported (file, JSON pointer, plain English), not just the first.
 */
export async function readRuleset(dir: string, facts: FactRegistry = FACTS): Promise<LoadResult> {
  const errors: LoadError[] = [];
  const sources = await readSources(dir, errors);
  const parse = <S extends z.ZodType>(file: string, text: string, schema: S): z.infer<S> | undefined => {
    const json = parseJson(file, text, errors);
    if (json === undefined) return undefined;
    const result = schema.safeParse(json);
    if (!result.success) {
      errors.push(...zodErrors(file, result.error));
      return undefined;
    }
    return result.data;
  };

  const files: KnowledgeFiles = { valueSets: [], thresholds: [] };
  // Names defined in a file with errors: already reported there, so references to them are not reported again.
  const broken = new Set<string>();
  const ruleFiles: { file: string; content: z.infer<typeof rulesFileSchema> }[] = [];
  for (const { file, text } of sources) {
    if (file === 'settings.json') {
      const content = parse(file, text, settingsFileSchema);
      if (content) files.settings = { file, content };
    } else if (file.startsWith('value-sets/')) {
      const content = parse(file, text, valueSetFileSchema);
      if (content) files.valueSets.push({ file, content });
      else markBroken(text, valueSetName(file), broken);
    } else if (file.startsWith('thresholds/')) {
      const content = parse(file, text, thresholdsFileSchema);
      files.thresholds.push({ file, content: content ?? salvage(text, ['thresholds', 'tables'], thresholdsFileSchema, broken) });
    } else {
      const content = parse(file, text, rulesFileSchema);
      if (content) ruleFiles.push({ file, content });
    }
  }
  const knowledge = buildKnowledge(files, broken, errors);
  if (!knowledge) return { ok: false, errors };

  const compiler = new RuleCompiler(facts, knowledge, broken);
  const compiled: CompiledRule[] = [];
  const ids = new Map<string, string>();
  const counts = { active: 0, silent: 0, retired: 0 };
  for (const { file, content } of ruleFiles) {
    content.rules.forEach((rule, i) => {
      counts[rule.status] += 1;
      if (rule.status === 'retired') return;
      const first = ids.get(rule.id);
      if (first !== undefined) {
        errors.push({ file, pointer: `/rules/${i}/id`, message: `rule id "${rule.id}" is already used in ${first}` });
      }
      ids.set(rule.id, first ?? file);
      const result = compiler.compile(file, ['rules', i], rule, errors);
      if (result) compiled.push(result);
    });
  }
  if (errors.length > 0) return { ok: false, errors };

  return {
    ok: true,
    ruleset: createRuleset({
      version: contentHash(sources),
      loadedAt: new Date().toISOString(),
      counts,
      documents: { settings: files.settings!.content, rules: ruleFiles, knowledge },
      knowledge,
      facts,
      rules: compiled,
      requirements: new Map(HOOKS.map((hook) => [hook, requirementsFor(hook, compiled, knowledge, facts)])),
      observed: new Map(HOOKS.map((hook) => [hook, observedFor(hook, compiled, knowledge, facts)])),
    }),
  };
}

/** Like {@link readRuleset}, but throws a RulesetLoadError listing every error. */
export async function loadRuleset(dir: string, facts: FactRegistry = FACTS): Promise<Ruleset> {
  const result = await readRuleset(dir, facts);
  if (!result.ok) throw new RulesetLoadError(result.errors);
  return result.ruleset;
}

/**
 * What a hook's rules read, plus what every call needs: the medication orders (to find the inotropes)
 * and body weight (dose checks).
 */
function requirementsFor(hook: Hook, rules: readonly CompiledRule[], knowledge: Knowledge, facts: FactRegistry): DataRequirement[] {
  const used = rules.filter((r) => r.hooks.includes(hook)).flatMap((r) => r.uses);
  return mergeRequirements(
    [MEDICATIONS_REQUIREMENT],
    observationRequirement(knowledge.settings.weight.valueSet, knowledge),
    ...used.map((u) => facts[u.fact]!.requirements(u.params, knowledge)),
  );
}

/** The observations a hook's rules read (the dose checks' body weight among them), each set once at its longest age. */
function observedFor(hook: Hook, rules: readonly CompiledRule[], knowledge: Knowledge, facts: FactRegistry): ObservationRead[] {
  const used = rules.filter((r) => r.hooks.includes(hook)).flatMap((r) => r.uses);
  return mergeObservationReads(used.flatMap((u) => facts[u.fact]!.observes?.(u.params, knowledge) ?? []));
}

const KIND = { thresholds: 'threshold', tables: 'table' } as const;

/** A value-set file with errors (already reported): references to its name or url are not reported again. */
function markBroken(text: string, name: string, broken: Set<string>): void {
  broken.add(`valueSet:${name}`);
  try {
    const url = (JSON.parse(text) as { url?: unknown } | null)?.url;
    if (typeof url === 'string') broken.add(`valueSetUrl:${url}`);
  } catch {
    // Not JSON: already reported; only the name is known.
  }
}

/**
 * The valid entries of a value-set or thresholds file that has errors (already reported), so one bad
 * entry does not make every rule that uses the file's other entries fail too.
 */
function salvage<S extends typeof thresholdsFileSchema>(
  text: string,
  keys: readonly (keyof typeof KIND)[],
  schema: S,
  broken: Set<string>,
): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = {};
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const key of keys) {
    out[key] = {};
    const entries = (json as Record<string, unknown> | null)?.[key];
    if (typeof entries !== 'object' || entries === null) continue;
    const record = (schema.shape as Record<string, z.ZodType>)[key]!;
    for (const [name, entry] of Object.entries(entries)) {
      if (record.safeParse({ [name]: entry }).success) out[key][name] = entry;
      else broken.add(`${KIND[key]}:${name}`);
    }
  }
  return schema.parse({ $schema: schema.shape.$schema.value, ...out }) as z.infer<S>;
}

interface Source {
  /** Relative to the rules folder, with `/` separators. */
  file: string;
  text: string;
}

async function readSources(dir: string, errors: LoadError[]): Promise<Source[]> {
  const sources: Source[] = [];
  try {
    sources.push({ file: 'settings.json', text: await readFile(path.join(dir, 'settings.json'), 'utf8') });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const sub of KNOWLEDGE_DIRS) {
    let names: string[];
    try {
      names = await readdir(path.join(dir, sub));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      try {
        sources.push({ file: `${sub}/${name}`, text: await readFile(path.join(dir, sub, name), 'utf8') });
      } catch (err) {
        errors.push({ file: `${sub}/${name}`, pointer: '', message: `cannot be read: ${(err as Error).message}` });
      }
    }
  }
  return sources;
}

/** The file's JSON, or undefined with every slip reported (line and column, one plain message each). */
export function parseJson(file: string, text: string, errors: LoadError[]): unknown {
  const parsed = parseJsonText(text);
  if (parsed.ok) return parsed.value;
  for (const slip of parsed.slips) {
    errors.push({ file, pointer: '', message: `is not valid JSON at line ${slip.line}, column ${slip.column}: ${slip.message}` });
  }
  return undefined;
}

/** Short sha256 over every file of the ruleset in name order: equal contents, equal version. */
function contentHash(sources: readonly Source[]): string {
  const hash = createHash('sha256');
  for (const s of [...sources].sort((a, b) => a.file.localeCompare(b.file))) hash.update(`${s.file}\0${s.text}\0`);
  return hash.digest('hex').slice(0, 12);
}
