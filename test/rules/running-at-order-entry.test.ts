import { beforeAll, describe, expect, it } from 'vitest';
import { ruleOf, type Card } from '../../src/shared/card.js';
import { loadRuleset } from '../../src/rules/load.js';
import type { Ruleset } from '../../src/rules/ruleset.js';
import type { MedicationOrder } from '../../src/shared/patient-data.js';
import { FUROSEMIDE, HEART_FAILURE, MILRINONE, observation, order, patientData } from './patient-data.js';

/**
 * Issue 15, item 1: at order entry the shipped renal and maximum-dose rules re-check a running infusion, once:
 * when the call drafts the same drug again, only the draft (the new dose) is checked.
 */

const NOW = new Date('2026-11-21T12:00:00Z');
let ruleset: Ruleset;

beforeAll(async () => {
  ruleset = await loadRuleset('rules');
});

async function renalCards(hook: 'order-select' | 'order-sign', orders: MedicationOrder[]): Promise<Card[]> {
  const data = patientData({
    hook,
    medicationOrders: orders,
    conditions: [HEART_FAILURE],
    observationsByCode: new Map([observation('29463-7', 70, 'kg', '2026-11-21T08:00:00Z'), observation('98979-8', 25, 'mL/min/{1.73_m2}', '2026-11-21T06:00:00Z')]),
  });
  let n = 0;
  const { cards } = await ruleset.evaluate({ data, now: NOW, uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` });
  return cards.filter((c) => ruleOf(c)?.id === 'DOSE-MIL-RENAL');
}

const running = () => order('running', MILRINONE, { origin: 'active', rate: 0.5 });

describe('running inotropes at order entry', () => {
  it.each(['order-select', 'order-sign'] as const)('%s of another drug: one renal card, about the running order', async (hook) => {
    const cards = await renalCards(hook, [order('furosemide', FUROSEMIDE), running()]);
    expect(cards.map((c) => ruleOf(c)?.subject)).toEqual(['MedicationRequest/running']);
  });

  it.each(['order-select', 'order-sign'] as const)('%s of milrinone again: one renal card, about the draft', async (hook) => {
    const cards = await renalCards(hook, [order('reorder', MILRINONE, { rate: 0.5 }), running()]);
    expect(cards.map((c) => ruleOf(c)?.subject)).toEqual(['MedicationRequest/reorder']);
  });

  it('an unselected milrinone draft at order-select is the re-order too: the running order is not checked beside it', async () => {
    const cards = await renalCards('order-select', [order('furosemide', FUROSEMIDE), order('reorder', MILRINONE, { rate: 0.5, selected: false }), running()]);
    expect(cards).toEqual([]);
  });
});
