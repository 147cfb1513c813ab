import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { makeApp } from '../helpers.js';
import { hookModule } from '../../src/cds/hooks/registry.js';
import { readRuleset } from '../../src/rules/load.js';
import { readScenarios, runScenario, runsInFetchMode, type ScenarioMode } from '../../src/scenarios/run-scenarios.js';
import { ruleOf, type Card } from '../../src/shared/card.js';
import type { Hook } from '../../src/shared/hooks.js';
import { DOSE_STATUSES } from '../../src/facts/rate.js';

/**
 * Text a clinician reads: every card of every scenario (rules/tests, in each mode the scenario runner uses)
 * and of every example request (examples/) is read for what a busy clinician would have to decode —
 * internal status words, SNOMED semantic tags, bare codes as names, file paths, reference keys and rule
 * ids, "unknown" where the value exists or was never ordered, durations in raw hours.
 */

const loaded = await readRuleset('rules');
const { cases } = await readScenarios('rules');

/** The reference keys of docs/references.md (`| LBL-MIL | …`) and the rule ids: internal names, never card text. */
const REFERENCE_KEYS = [...readFileSync(new URL('../../docs/references.md', import.meta.url), 'utf8').matchAll(/^\| ([A-Z][A-Z0-9-]+) \|/gm)].map((m) => m[1]!);
const RULES_DIR = new URL('../../rules/rules/', import.meta.url);
const RULE_IDS = readdirSync(RULES_DIR)
  .filter((f) => f.endsWith('.json'))
  .flatMap((f) => (JSON.parse(readFileSync(new URL(f, RULES_DIR), 'utf8')) as { rules: { id: string }[] }).rules.map((r) => r.id));

/** Internal enumerations that facts use as values: the dose statuses and the renal basis words that are not English. */
const STATUS_WORDS = DOSE_STATUSES.filter((s) => s.includes('-'));

/** SNOMED CT semantic tags (the part of a fully specified name in brackets at its end). */
const SEMANTIC_TAGS = [
  'disorder', 'finding', 'procedure', 'substance', 'regime/therapy', 'physical object', 'medicinal product', 'medicinal product form',
  'clinical drug', 'product', 'situation', 'observable entity', 'qualifier value', 'morphologic abnormality', 'body structure',
  'event', 'record artifact', 'environment', 'organism', 'specimen', 'person', 'social concept', 'assessment scale',
  'attribute', 'physical force', 'occupation', 'life style', 'navigational concept', 'staging scale', 'cell', 'cell structure',
];

export interface Finding {
  pattern: string;
  text: string;
}

/** A name for each pattern, and a test on one field's text (every pattern is linear: no nested quantifiers). */
const PATTERNS: readonly { name: string; test: (text: string) => string | null }[] = [
  { name: 'internal status code', test: (t) => firstWord(t, STATUS_WORDS) ?? match(t, /\b[a-z]+_[a-z_]+\b/) },
  { name: 'SNOMED semantic tag', test: (t) => match(t, new RegExp(`\\((?:${SEMANTIC_TAGS.map((s) => s.replace('/', '\\/')).join('|')})\\)`)) },
  // A code standing as a name: before "(draft order)", "(active order)" or "on record", or a long digit run (RxCUI, SNOMED).
  { name: 'bare code as a name', test: (t) => match(t, /(?:^|[\s:(])(?:\d{3,}|[A-Z]\d{2}(?:\.\d{1,4})?) (?:\((?:draft|active) order\)|on record)/) ?? match(t, /(?<![\w.-])\d{6,}(?![\w.])/) },
  { name: 'bare code as a condition', test: (t) => match(t, /(?:record|disorder|drinking):\** [A-Z]\d{2}\.\d{1,4}\b/) },
  { name: 'file path or file name', test: (t) => match(t, /\b(?:seeds|docs|rules|src|test|examples)\/|\b\w+\.(?:txt|json|md|ts|ya?ml)\b/) },
  { name: 'reference key or rule id', test: (t) => firstWord(t, [...REFERENCE_KEYS, ...RULE_IDS]) },
  // "unknown" standing for a value (the renderer's word for a missing one); prose may say a thing "is unknown".
  { name: '"unknown" as a value', test: (t) => match(t, /(?<!\b(?:is|are|was|were) )\bunknown\b/i) },
  { name: 'duration in raw hours above two days', test: (t) => rawHours(t) },
];

type Field = 'summary' | 'detail' | 'suggestion label' | 'link label' | 'source label';

/** The first of `words` that `text` holds as a whole token (not part of a longer name: `WEBMD` is not in `SEED-WEBMD`). */
function firstWord(text: string, words: readonly string[]): string | null {
  for (const token of text.split(/[^\w-]+/)) {
    const bare = token.replace(/^-+|-+$/g, '');
    if (words.includes(bare)) return bare;
  }
  return null;
}

function match(text: string, pattern: RegExp): string | null {
  const m = pattern.exec(text);
  if (!m) return null;
  const start = Math.max(0, m.index - 40);
  return `…${text.slice(start, m.index + m[0].length + 40)}…`;
}

/**
 * An elapsed time in hours that a clinician must divide by 24 (48 h and more): "144 h ago", "running 429.6 h",
 * "for 72 h". A window ("within 72 h", "due every 24 h") is a rule's setting, not a duration, and is not read.
 */
function rawHours(text: string): string | null {
  const elapsed = /(?:\b(?:running|for|since|after|lasting) (\d+(?:\.\d+)?) ?h\b|\b(\d+(?:\.\d+)?) ?h ago\b)/g;
  for (const m of text.matchAll(elapsed)) {
    if (Number(m[1] ?? m[2]) >= 48) return `…${text.slice(Math.max(0, m.index - 40), m.index + m[0].length + 20)}…`;
  }
  return null;
}

/** Every text field of a card that a clinician reads, by field name. */
function fields(card: Card): [Field, string][] {
  return [
    ['summary', card.summary],
    ['detail', card.detail ?? ''],
    ...(card.suggestions ?? []).map((s): [Field, string] => ['suggestion label', s.label]),
    ...(card.links ?? []).map((l): [Field, string] => ['link label', l.label]),
    ['source label', card.source.label],
  ];
}

export function findings(card: Card): string[] {
  const out: string[] = [];
  for (const [field, text] of fields(card)) {
    for (const p of PATTERNS) {
      const found = p.test(text);
      if (found !== null) out.push(`${ruleOf(card)?.id ?? '?'} ${field}: ${p.name}: ${found}`);
    }
  }
  return out;
}

describe('card text a clinician reads', () => {
  it('the patterns catch what they are for, and pass plain clinical text', () => {
    const card = (summary: string, detail = '', links: string[] = []): Card => ({
      uuid: 'u', summary, detail, indicator: 'info', source: { label: 'inotrope-cds' }, links: links.map((label) => ({ label, url: 'https://x.test', type: 'absolute' })),
    });
    const bad = [
      card('Dose not checked — rate: no-weight; loading dose: no-dose'),
      card('x', '**Rate check:** unsupported-unit'),
      card('Atrial fibrillation (disorder) on record'),
      card('x', 'Allergy: Milrinone (substance)'),
      card('x', '**Orders:** 309986 (draft order)'),
      card('I47.2 on record — milrinone can worsen ventricular arrhythmias'),
      // The path is built here, so that this file names none itself (test/docs/citations.test.ts).
      card('x', '', [`see ${['seeds', 'milrinone.txt'].join('/')}`]),
      card('x', '', ['Milrinone lactate US prescribing information (LBL-MIL): dosing']),
      card('x', 'checked by DQ-WEIGHT'),
      card('Milrinone above label maximum — loading dose unknown (max 50 mcg/kg)'),
      card('x', '**Loading dose:** unknown — maximum 50 mcg/kg'),
      card('Baseline labs incomplete — K unknown, Mg 2'),
      card('x', '- Creatinine: Unknown (none within 72 h)'),
      card('x', 'Body weight: last 66 kg (2026-11-15), 144 h ago'),
      card('x', 'running 429.6 h'),
    ];
    for (const c of bad) expect(findings(c), c.summary + (c.detail ?? '') + JSON.stringify(c.links)).not.toEqual([]);
    const good = [
      card('Atrial fibrillation on record — milrinone can speed AV conduction', '**Weight used:** 80 kg (2026-11-21 08:00 UTC), within 72 h; due every 24 h'),
      card('x', 'A weight-based, short-term infusion; the intended dose is unknown; Dobutamine 1000 mg in 250 mL; eGFR 16 mL/min/1.73 m²', ['Milrinone lactate US prescribing information: dosing (0.4 %)', 'US Core: AUDIT-C total score (LOINC 75626-2)']),
      card('x', 'running 17.9 days (since 2026-11-18); Body weight: last 66 kg on 2026-11-15, 6 days ago; beyond 48 h'),
    ];
    for (const c of good) expect(findings(c), c.summary + (c.detail ?? '')).toEqual([]);
  });

  const modes: ScenarioMode[] = ['prefetch', 'fetch'];
  for (const mode of modes) {
    it(`every card of every scenario in rules/tests (${mode} mode)`, async () => {
      expect(loaded.ok).toBe(true);
      if (!loaded.ok) return;
      const found: string[] = [];
      let scanned = 0;
      for (const c of mode === 'prefetch' ? cases : cases.filter((c) => runsInFetchMode(c.scenario))) {
        const result = await runScenario(loaded.ruleset, c, mode);
        scanned += result.cards.length;
        for (const card of result.cards) found.push(...findings(card).map((f) => `${c.file} › ${c.scenario.name}: ${f}`));
      }
      if (found.length > 0) expect.fail(`${found.length} findings:\n${found.join('\n')}`);
      // The scan reached the cards (a runner that returned none would pass the check above).
      expect(scanned).toBeGreaterThan(500);
    }, 120_000);
  }

  it('every card of every example request in examples/', async () => {
    const dir = new URL('../../examples/', import.meta.url);
    const { app } = await makeApp();
    const found: string[] = [];
    let scanned = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const example = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { hook: Hook; prefetch?: unknown };
      // The example without prefetch gives the same cards from the EHR's server (test/content/examples.test.ts).
      if (example.prefetch === undefined) continue;
      const res = await request(app).post(`/cds-services/${hookModule(example.hook).service.id}`).send(example).expect(200);
      const cards = (res.body as { cards: Card[] }).cards;
      scanned += cards.length;
      for (const card of cards) found.push(...findings(card).map((f) => `examples/${file}: ${f}`));
    }
    if (found.length > 0) expect.fail(`${found.length} findings:\n${found.join('\n')}`);
    expect(scanned).toBeGreaterThan(10);
  });
});
