import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DOC_PATH, RULES_DIR, isCurrent, readContent, renderClinicalRules } from '../../scripts/gen-clinical-rules.js';
import { FACTS } from '../../src/facts/index.js';

/**
 * docs/clinical-rules.md is generated from rules/: this is the CI gate that fails when someone changes a
 * rule, threshold or value set without regenerating it (`npm run docs:rules`).
 */

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfRules(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clinical-doc-'));
  scratch.push(dir);
  cpSync(RULES_DIR, join(dir, 'rules'), { recursive: true });
  return join(dir, 'rules');
}

describe('docs/clinical-rules.md', () => {
  it('is what the rule files render to (run `npm run docs:rules` when this fails)', () => {
    expect(readFileSync(DOC_PATH, 'utf8')).toBe(renderClinicalRules());
    expect(isCurrent()).toBe(true);
  });

  it('documents every rule with its id, version, category, indicator and sources', () => {
    const doc = readFileSync(DOC_PATH, 'utf8');
    const { rules } = readContent();
    expect(rules.length).toBeGreaterThan(0);
    for (const { rule } of rules) {
      expect(doc).toContain(`### ${rule.id} — ${rule.title}`);
      expect(doc).toContain(`| Version | ${rule.version} |`);
      expect(doc).toContain(`| [${rule.id}](#`);
      for (const reference of rule.references) expect(doc).toContain(reference.label.replace(/\|/g, '\\|'));
    }
  });

  it('lists every fact with its params, the settings it reads and its value, as the fact declares them', () => {
    const doc = readFileSync(DOC_PATH, 'utf8');
    const facts = doc.slice(doc.indexOf('## Facts'), doc.indexOf('## Thresholds'));
    for (const [id, def] of Object.entries(FACTS)) {
      const section = facts.slice(facts.indexOf(`### \`${id}\``)).split('\n### ')[0]!;
      expect(section, id).toContain('**Value:**');
      const params = (z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as { properties?: object }).properties ?? {};
      for (const name of Object.keys(params)) expect(section, `${id} ${name}`).toContain(`- \`${name}\` (`);
      for (const key of def.settings ?? []) expect(section, `${id} ${key}`).toContain(`\`${key}\``);
    }
    expect(facts).toContain('- `$.drug`: one of settings.inotropes');
    expect(facts).toContain('- `valueSet` (string, required): A value set: the name of a file in value-sets/.');
  });

  it('goes stale when a threshold changes', () => {
    const rulesDir = copyOfRules();
    const file = join(rulesDir, 'thresholds', 'thresholds.json');
    const content = JSON.parse(readFileSync(file, 'utf8')) as { thresholds: Record<string, { value: number }> };
    content.thresholds['potassium-low']!.value = 3.3;
    writeFileSync(file, JSON.stringify(content));
    expect(isCurrent(DOC_PATH, rulesDir)).toBe(false);
    expect(renderClinicalRules(rulesDir)).toContain('`potassium-low`: 3.3 `mmol/L`, within 72h');
  });

  it('goes stale when a rule changes', () => {
    const rulesDir = copyOfRules();
    const file = join(rulesDir, 'rules', 'monitoring.json');
    const content = JSON.parse(readFileSync(file, 'utf8')) as { rules: { id: string; version: string }[] };
    content.rules[0]!.version = '9.9.9';
    writeFileSync(file, JSON.stringify(content));
    expect(isCurrent(DOC_PATH, rulesDir)).toBe(false);
  });
});
