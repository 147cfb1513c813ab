import { describe, expect, it } from 'vitest';
import { readContent } from '../../scripts/gen-clinical-rules.js';
import { CATEGORIES } from '../../src/shared/card.js';

/**
 * The rule catalog's contract (one rule per row: id, category, indicator, suggestion), as the shipped
 * rule files must keep it. Clients group and count cards by category, so a drift here is a breaking change.
 */

type Action = 'create:ServiceRequest' | 'create:NutritionOrder' | 'update-draft-rate' | 'delete-draft';

const CATALOG: Record<string, { category: string; indicator: string; escalate?: string; actions: Action[] }> = {
  'ELIG-HF': { category: 'eligibility', indicator: 'warning', actions: [] },
  'ELIG-ADV': { category: 'eligibility', indicator: 'warning', actions: [] },
  'ELIG-PEDIATRIC': { category: 'eligibility', indicator: 'info', actions: [] },
  'DUR-48H': { category: 'dosing', indicator: 'info', escalate: 'warning', actions: [] },
  'DUR-LONG-TERM': { category: 'dosing', indicator: 'warning', actions: [] },
  'CI-ALLERGY': { category: 'contraindication', indicator: 'critical', actions: ['delete-draft'] },
  'CI-HOCM': { category: 'contraindication', indicator: 'critical', actions: ['delete-draft'] },
  'CI-HCM': { category: 'precaution', indicator: 'warning', actions: [] },
  'CI-OBSTRUCT': { category: 'precaution', indicator: 'warning', actions: [] },
  'CI-SULFITE': { category: 'precaution', indicator: 'warning', actions: [] },
  'CI-HYPOTENSION': { category: 'precaution', indicator: 'warning', actions: [] },
  'CI-VENT-ARRHYTHMIA': { category: 'precaution', indicator: 'warning', actions: [] },
  'CI-AF': { category: 'precaution', indicator: 'warning', actions: [] },
  'CI-HYPOKALEMIA': { category: 'precaution', indicator: 'warning', actions: ['create:ServiceRequest'] },
  'CI-HYPOMAGNESEMIA': { category: 'precaution', indicator: 'warning', actions: ['create:ServiceRequest'] },
  'CI-HYPONATREMIA': { category: 'precaution', indicator: 'info', actions: ['create:NutritionOrder'] },
  'CI-THROMBOCYTOPENIA': { category: 'precaution', indicator: 'warning', actions: ['create:ServiceRequest'] },
  'DQ-RUNNING-RATE': { category: 'data-quality', indicator: 'info', actions: [] },
  'INT-DOB-BETA-BLOCKER': { category: 'interaction', indicator: 'warning', actions: [] },
  'PREC-DOB-OBSTRUCTION': { category: 'precaution', indicator: 'warning', actions: [] },
  'PREC-DOB-RECENT-MI': { category: 'precaution', indicator: 'info', actions: [] },
  'PREC-DOB-HYPOVOLEMIA': { category: 'precaution', indicator: 'warning', actions: [] },
  'PREC-MIL-PREGNANCY': { category: 'precaution', indicator: 'info', actions: [] },
  'PREC-MIL-BREASTFEEDING': { category: 'precaution', indicator: 'info', actions: [] },
  'DISCH-CHECKLIST': {
    category: 'discharge',
    indicator: 'info',
    escalate: 'warning',
    actions: ['create:ServiceRequest', 'create:ServiceRequest', 'create:ServiceRequest', 'create:ServiceRequest', 'create:NutritionOrder'],
  },
  'DOSE-GROSS': { category: 'dosing', indicator: 'critical', actions: ['delete-draft'] },
  'DOSE-MIL-MAX': { category: 'dosing', indicator: 'warning', actions: ['update-draft-rate'] },
  'DOSE-MIL-RENAL': { category: 'dosing', indicator: 'warning', actions: ['update-draft-rate'] },
  'DOSE-DOB-HIGH': { category: 'dosing', indicator: 'info', escalate: 'warning', actions: [] },
  'DOSE-BOLUS': { category: 'dosing', indicator: 'warning', actions: [] },
  'DOSE-UNIT': { category: 'dosing', indicator: 'info', actions: [] },
  'ALC-USE': { category: 'alcohol', indicator: 'info', escalate: 'warning', actions: [] },
  'IV-SHARED-LINE': { category: 'iv-line', indicator: 'info', actions: [] },
  'IV-INCOMPATIBLE': { category: 'iv-line', indicator: 'warning', actions: [] },
  'DUP-SAME': { category: 'duplicate-therapy', indicator: 'warning', actions: ['delete-draft'] },
  'DUP-COMBINED': { category: 'duplicate-therapy', indicator: 'info', actions: [] },
  'MON-TACHYCARDIA': { category: 'monitoring', indicator: 'warning', actions: [] },
  'MON-FEVER': { category: 'monitoring', indicator: 'warning', actions: ['create:ServiceRequest'] },
  'MON-BASELINE-LABS': { category: 'monitoring', indicator: 'info', actions: ['create:ServiceRequest', 'create:ServiceRequest', 'create:ServiceRequest'] },
  'MON-TELEMETRY': { category: 'monitoring', indicator: 'info', actions: ['create:ServiceRequest'] },
  'MON-OVERDUE': {
    category: 'monitoring',
    indicator: 'info',
    actions: ['create:ServiceRequest', 'create:ServiceRequest', 'create:ServiceRequest', 'create:ServiceRequest', 'create:ServiceRequest'],
  },
  'MON-HR-RISE': { category: 'monitoring', indicator: 'warning', actions: [] },
  'MON-SBP-RISE': { category: 'monitoring', indicator: 'warning', actions: [] },
  'MON-PLT-FALL': { category: 'monitoring', indicator: 'warning', actions: [] },
  'MON-NEW-ARRHYTHMIA': { category: 'monitoring', indicator: 'warning', actions: [] },
  'DQ-WEIGHT': { category: 'data-quality', indicator: 'info', actions: [] },
  'DQ-FETCH': { category: 'data-quality', indicator: 'warning', actions: [] },
  'DQ-DECEASED': { category: 'data-quality', indicator: 'info', escalate: 'warning', actions: [] },
  'DQ-STALE-ORDER': { category: 'data-quality', indicator: 'info', actions: [] },
  'DQ-DRUG-BY-NAME': { category: 'data-quality', indicator: 'info', actions: [] },
  'DQ-DRUG-UNKNOWN': { category: 'data-quality', indicator: 'info', actions: [] },
};

const { rules } = readContent();
const byId = new Map(rules.map(({ rule }) => [rule.id, rule]));

describe('the shipped rules keep the rule catalog', () => {
  it('offers exactly the card categories of the contract (CHANGELOG 0.2.0)', () => {
    expect(CATEGORIES).toEqual([
      'eligibility',
      'contraindication',
      'precaution',
      'interaction',
      'dosing',
      'alcohol',
      'iv-line',
      'duplicate-therapy',
      'monitoring',
      'discharge',
      'data-quality',
    ]);
  });

  it('has exactly one rule per catalog row', () => {
    expect(rules.map(({ rule }) => rule.id).sort()).toEqual(Object.keys(CATALOG).sort());
  });

  for (const [id, row] of Object.entries(CATALOG)) {
    it(`${id}: ${row.category}, ${row.indicator}${row.escalate ? `/${row.escalate}` : ''}, ${row.actions.join(' + ') || 'no suggestion'}`, () => {
      const rule = byId.get(id);
      expect(rule?.status).toBe('active');
      expect(rule?.category).toBe(row.category);
      expect(rule?.card.indicator).toBe(row.indicator);
      expect(rule?.card.escalate?.indicator).toBe(row.escalate);
      const actions = (rule?.card.suggestions ?? []).flatMap((s) =>
        s.actions.map((a) => (a.type === 'create' ? `create:${a.resource?.resourceType}` : a.type)),
      );
      expect(actions).toEqual(row.actions);
      expect(rule?.references.some((r) => r.url !== undefined)).toBe(true);
    });
  }

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
