import { describe, expect, it } from 'vitest';
import { readContent } from '../../scripts/gen-clinical-rules.js';
import { readScenarios } from '../../src/scenarios/run-scenarios.js';
import { coverageProblems, scenarioCoverage } from '../../src/scenarios/coverage.js';
import { CATEGORIES } from '../../src/shared/card.js';

/**
 * The contract every shipped rule keeps, checked from rules/ itself so that adding a rule needs no
 * TypeScript: a catalog category (clients group and count cards by it), an indicator, a source with a
 * link, a scenario that makes it fire (rules:test reports the same), and proposals that stay proposals.
 */

const { rules } = readContent();
const { cases } = await readScenarios('rules');
const live = rules.filter(({ rule }) => rule.status !== 'retired');

describe('every shipped rule keeps the catalog contract', () => {
  it('there are rules to check', () => {
    expect(live.length).toBeGreaterThan(0);
  });

  for (const { file, rule } of live) {
    it(`${rule.id} (${file}): ${rule.category}, ${rule.card.indicator}, sourced`, () => {
      expect(CATEGORIES).toContain(rule.category);
      expect(['info', 'warning', 'critical']).toContain(rule.card.indicator);
      expect(rule.references.some((r) => r.url !== undefined), 'a reference with a url').toBe(true);
    });
  }

  it('a scenario makes every active rule fire (rules:test reports the same)', () => {
    expect(coverageProblems(scenarioCoverage(live.map(({ rule }) => rule), cases)).errors).toEqual([]);
  });

  it('proposes every created resource as a draft proposal for the patient', () => {
    for (const { rule } of rules) {
      for (const action of (rule.card.suggestions ?? []).flatMap((s) => s.actions)) {
        if (action.type !== 'create') continue;
        const resource = action.resource as Record<string, unknown>;
        expect(resource, rule.id).toMatchObject({ status: 'draft', intent: 'proposal' });
        const patient = resource.resourceType === 'NutritionOrder' ? resource.patient : resource.subject;
        expect(patient, rule.id).toEqual({ reference: 'Patient/{{patient.id}}' });
      }
    }
  });
});
