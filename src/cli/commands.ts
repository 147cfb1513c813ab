import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { explainHook, runHook, validateCall } from '../cds/handle-hook.js';
import { findHook, HOOK_MODULES } from '../cds/hooks/registry.js';
import type { ConditionExplanation, RuleExplanation } from '../shared/operator-api.js';
import { ruleOf, type Card } from '../shared/card.js';
import { fhirLimits, loadConfig } from '../config.js';
import { ServiceError, statusOf } from '../shared/errors.js';
import { jsonSchemaFiles } from '../rules/json-schemas.js';
import { formatLoadError } from '../rules/load-error.js';
import { readRuleset } from '../rules/load.js';
import { describeFailure, explainScenario, readScenarios, runScenario, runsInFetchMode } from '../scenarios/run-scenarios.js';
import { coverageProblems, scenarioCoverage } from '../scenarios/coverage.js';
import { ImportError, importFiles } from './terminology-import.js';
import { db, DB_USAGE } from './db-commands.js';

/** Where the CLI writes: injected so tests capture it. */
export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = `Usage: inotrope-cds <command>

  check [dir]                       validate every rules file and scenario (exit 1 listing all errors)
  test [dir] [--filter text] [--cards]
                                    run the scenario tests in <dir>/tests (those whose file or name
                                    contains the text) with prefetch and again fetching from a
                                    loopback FHIR server, printing each scenario's cards with --cards
  evaluate <request.json> [--json] [--explain] [--rules dir] [--now ISO]
                                    print the cards the service would return for a CDS Hooks request;
                                    --explain adds, for every rule, each condition with the value it
                                    read, the threshold and whether it held
  schema [dir]                      write <dir>/schema/*.schema.json from the rule-file schemas
  terminology import <ValueSet.json...> [--name kebab-name] [--rules dir]
                                    write or update <dir>/value-sets/<name>.json from published,
                                    expanded FHIR ValueSets (VSAC); name from the set's name
${DB_USAGE}

  dir defaults to $RULES_DIR, else ./rules`;

/** Runs one CLI command; resolves with the process exit code (0 ok, 1 errors or failures, 2 usage). */
export async function runCli(argv: readonly string[], io: Output): Promise<number> {
  const [command, ...rest] = argv;
  const defaultDir = process.env.RULES_DIR ?? 'rules';
  try {
    switch (command) {
      case 'check':
        return await check(rest[0] ?? defaultDir, io);
      case 'test':
        return await test(rest, defaultDir, io);
      case 'evaluate':
        return await evaluate(rest, defaultDir, io);
      case 'schema':
        return await schema(rest[0] ?? defaultDir, io);
      case 'terminology':
        return await terminology(rest, defaultDir, io);
      case 'db':
        return await db(rest, io);
      default:
        io.err(command === undefined || command === 'help' || command === '--help' ? USAGE : `Unknown command "${command}".\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    io.err(err instanceof UsageError ? `${err.message}\n\n${USAGE}` : `Error: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

class UsageError extends Error {}

async function check(dir: string, io: Output): Promise<number> {
  const loaded = await readRuleset(dir);
  const scenarios = await readScenarios(dir);
  const errors = [...(loaded.ok ? [] : loaded.errors), ...scenarios.errors];
  if (errors.length > 0) {
    io.err(`${dir}: ${errors.length} error${errors.length === 1 ? '' : 's'}`);
    for (const e of errors) io.err(`  ${formatLoadError(e)}`);
    return 1;
  }
  if (!loaded.ok) return 1;
  const { version, counts } = loaded.ruleset;
  io.out(`${dir}: OK — ruleset ${version}: ${counts.active} active, ${counts.silent} silent, ${counts.retired} retired rules; ${scenarios.cases.length} scenarios`);
  return 0;
}

async function test(args: readonly string[], defaultDir: string, io: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { filter: { type: 'string' }, cards: { type: 'boolean' } },
  });
  const dir = positionals[0] ?? defaultDir;
  const loaded = await readRuleset(dir);
  const read = await readScenarios(dir);
  const { errors } = read;
  const cases = read.cases.filter((c) => values.filter === undefined || `${c.file} ${c.scenario.name}`.includes(values.filter));
  if (!loaded.ok || errors.length > 0) {
    for (const e of [...(loaded.ok ? [] : loaded.errors), ...errors]) io.err(formatLoadError(e));
    return 1;
  }
  let failed = 0;
  for (const c of cases) {
    const result = await runScenario(loaded.ruleset, c);
    // Fetch mode (no prefetch, the chart on a loopback FHIR server) must give the same cards.
    const fetched = runsInFetchMode(c.scenario) ? await runScenario(loaded.ruleset, c, 'fetch') : undefined;
    if (result.problems.length === 0 && (fetched?.problems.length ?? 0) === 0) {
      io.out(`✓ ${c.file} › ${c.scenario.name}${fetched ? '' : ' (prefetch only)'}`);
    } else {
      failed += 1;
      if (result.problems.length > 0) {
        io.out(`✗ ${describeFailure(c, result)}`);
        // What each fact resolved to (value, unit, date), so "fired: (nothing)" explains itself.
        const explained = await explainScenario(loaded.ruleset, c, result);
        if (explained.length > 0) io.out(explanationText(explained).split('\n').map((l) => `  ${l}`).join('\n'));
      }
      if (fetched && fetched.problems.length > 0) io.out(`✗ [fetch mode] ${describeFailure(c, fetched)}`);
    }
    if (values.cards) {
      for (const card of result.cards) io.out(`\n${readable(card).replace(/^(?=.)/gm, '    ')}`);
      io.out('');
    }
  }
  io.out(`\n${cases.length - failed} passed, ${failed} failed (${cases.length} scenarios, ruleset ${loaded.ruleset.version})`);
  if (values.filter !== undefined) {
    io.out('(filtered: rule coverage is reported by an unfiltered run)');
    return failed === 0 ? 0 : 1;
  }
  // Per rule: a scenario that makes it fire and one that keeps it quiet.
  const rules = (loaded.ruleset.documents?.rules ?? []).flatMap((f) => f.content.rules);
  const coverage = scenarioCoverage(rules, cases);
  io.out('\nRule coverage (scenarios that make it fire / keep it quiet):');
  for (const r of coverage) io.out(`  ${r.fires > 0 && r.quiet > 0 ? '✓' : r.fires === 0 && r.status === 'active' ? '✗' : '!'} ${r.id.padEnd(22)} fires in ${r.fires}, quiet in ${r.quiet}${r.status === 'silent' ? ' (silent)' : ''}`);
  const { errors: uncovered, warnings } = coverageProblems(coverage);
  for (const e of uncovered) io.out(`error: ${e}`);
  for (const w of warnings) io.out(`warning: ${w}`);
  return failed === 0 && uncovered.length === 0 ? 0 : 1;
}

async function evaluate(args: readonly string[], defaultDir: string, io: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { json: { type: 'boolean' }, explain: { type: 'boolean' }, rules: { type: 'string' }, now: { type: 'string' } },
  });
  const file = positionals[0];
  if (file === undefined) throw new UsageError('evaluate needs a request file.');
  const now = values.now === undefined ? new Date() : new Date(values.now);
  if (Number.isNaN(now.getTime())) throw new UsageError(`--now "${values.now}" is not an ISO date-time.`);
  const dir = values.rules ?? defaultDir;
  const loaded = await readRuleset(dir);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.err(formatLoadError(e));
    return 1;
  }
  const body = JSON.parse(await readFile(file, 'utf8')) as { hook?: unknown };
  const hook = findHook(body.hook);
  if (!hook) {
    io.err(`${file}: "hook" must be one of ${HOOK_MODULES.map((m) => m.hook).join(', ')}`);
    return 1;
  }
  // The CLI authenticates nobody; the rest (FHIR allowlist, budgets) comes from the environment as for the service.
  const config = loadConfig({ ...process.env, CDS_AUTH: 'off' });
  try {
    const request = validateCall(hook, body);
    const deps = {
      data: {
        fhirServerAllowlist: config.FHIR_SERVER_ALLOWLIST,
        ...fhirLimits(config),
      },
      now: () => now,
      uuid: () => crypto.randomUUID(),
      timeZone: config.DISPLAY_TIME_ZONE,
    };
    const { cards, fired, explanation } = values.explain
      ? await explainHook(hook, request, loaded.ruleset, deps)
      : await runHook(hook, request, loaded.ruleset, deps).then((o) => ({ cards: o.response.cards, fired: o.fired, explanation: undefined }));
    if (values.json) {
      io.out(JSON.stringify(explanation ? { cards, explanation } : { cards }, null, 2));
    } else {
      io.out(`${cards.length} card${cards.length === 1 ? '' : 's'} for ${hook.hook} (ruleset ${loaded.ruleset.version}, evaluated at ${now.toISOString()})`);
      for (const card of cards) io.out(`\n${readable(card)}`);
      const silent = fired.filter((f) => f.status === 'silent');
      if (silent.length > 0) io.out(`\nSilent rules that fired (no card): ${silent.map((f) => f.id).join(', ')}`);
      if (explanation) io.out(`\n${explanationText(explanation)}`);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    io.err(`The service would answer ${statusOf(err.code)}: ${err.message}`);
    for (const d of err.extra.details ?? []) io.err(`  ${d}`);
    return 1;
  }
}

/** A card as a clinician reads it: indicator and summary, then detail, suggestions, reasons and sources. */
export function readable(card: Card): string {
  const rule = ruleOf(card);
  const lines = [`${card.indicator.toUpperCase().padEnd(8)}  ${card.summary}`];
  lines.push(`  ${[card.source.topic?.display, rule && `${rule.id} ${rule.version}`, rule?.subject].filter(Boolean).join(' · ')}`);
  if (card.detail) {
    lines.push('');
    // Markdown as plain text: drop emphasis markers and backslash escapes.
    for (const line of card.detail.replace(/\*\*/g, '').replace(/\\(.)/g, '$1').split('\n')) lines.push(line ? `  ${line}` : '');
  }
  if (card.suggestions) {
    lines.push('', `  Suggestions (${card.selectionBehavior === 'any' ? 'choose any' : 'choose at most one'}):`);
    for (const s of card.suggestions) {
      lines.push(`    ${s.isRecommended ? '★' : '-'} ${s.label}`);
      for (const a of s.actions ?? []) {
        const target = a.resourceId ?? (a.resource ? `${String(a.resource.resourceType)}${a.resource.id ? `/${String(a.resource.id)}` : ''}` : '');
        lines.push(`        ${a.type} ${target}: ${a.description}`);
      }
    }
  }
  if (card.overrideReasons) lines.push('', `  Override reasons: ${card.overrideReasons.map((r) => r.display).join('; ')}`);
  if (card.links) {
    lines.push('', '  References:');
    for (const l of card.links) lines.push(`    ${l.label} — ${l.url}`);
  }
  return lines.join('\n');
}

const OUTCOME: Record<RuleExplanation['outcome'], string> = { fired: 'FIRED', 'not-fired': 'not fired', 'not-applicable': 'not applicable', error: 'ERROR' };

/** The explanation as an informaticist reads it: fired rules first, then the others, each with its conditions. */
export function explanationText(explanation: readonly RuleExplanation[]): string {
  const rank = { fired: 0, error: 1, 'not-fired': 2, 'not-applicable': 3 };
  const lines = [`Explanation (${explanation.length} rule evaluations; ✓ held, ✗ did not hold, – not needed for the answer):`];
  for (const x of [...explanation].sort((a, b) => rank[a.outcome] - rank[b.outcome])) {
    lines.push('', `${OUTCOME[x.outcome].padEnd(14)} ${x.rule} ${x.version}${x.status === 'silent' ? ' (silent)' : ''} — ${x.title}${x.subject ? ` — for ${x.subject}` : ''}`);
    if (x.reason && x.outcome !== 'fired') lines.push(`    ${x.reason}`);
    if (x.conditions && x.outcome !== 'not-applicable') lines.push(...conditionLines(x.conditions, 2));
    for (const d of x.dataQuality ?? []) lines.push(`    data quality: ${d}`);
  }
  return lines.join('\n');
}

function conditionLines(c: ConditionExplanation, depth: number): string[] {
  const mark = c.skipped ? '–' : c.passed ? '✓' : '✗';
  const pad = '  '.repeat(depth);
  if (c.group) return [`${pad}${mark} ${c.group.toUpperCase()}${c.group === 'not' ? '' : ' of'}`, ...(c.children ?? []).flatMap((child) => conditionLines(child, depth + 1))];
  const read = c.error ?? `read ${c.value ?? 'no value'}${c.date ? ` (${c.date})` : ''}`;
  return [`${pad}${mark} ${c.label} ${c.operator}${c.threshold ? ` ${c.threshold}` : ''} — ${read}${c.decides ? '  ← decides' : ''}`];
}

async function terminology(args: readonly string[], defaultDir: string, io: Output): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'import') throw new UsageError(sub === undefined ? 'terminology needs a subcommand: import.' : `Unknown terminology subcommand "${sub}".`);
  const { values, positionals } = parseArgs({ args: [...rest], allowPositionals: true, options: { name: { type: 'string' }, rules: { type: 'string' } } });
  if (positionals.length === 0) throw new UsageError('terminology import needs one or more ValueSet files.');
  const dir = values.rules ?? defaultDir;
  try {
    for (const line of await importFiles(positionals, dir, values.name)) io.out(line);
  } catch (err) {
    if (!(err instanceof ImportError)) throw err;
    io.err(err.message);
    return 1;
  }
  io.out(`Check the ruleset with: npx inotrope-cds check ${dir}`);
  return 0;
}

async function schema(dir: string, io: Output): Promise<number> {
  const target = path.join(dir, 'schema');
  await mkdir(target, { recursive: true });
  for (const [file, text] of jsonSchemaFiles()) {
    await writeFile(path.join(target, file), text);
    io.out(`wrote ${path.join(target, file)}`);
  }
  return 0;
}
