import { describe, expect, it } from 'vitest';
import { feedbackRequestSchema, issuedCards } from '../../src/cds/feedback.js';
import { RULE_EXTENSION } from '../../src/shared/card.js';
import { FeedbackLedger } from '../../src/stores/memory/index.js';
import type { Card } from '../../src/shared/card.js';

const card = (uuid: string, id: string, category = 'contraindication'): Card => ({
  uuid,
  summary: 'Potassium 3.1 mmol/L (2026-11-20) — correct before milrinone',
  indicator: 'warning',
  source: { label: 'inotrope-cds', topic: { system: 'urn:inotrope-cds:card-category', code: category } },
  extension: { [RULE_EXTENSION]: { id, version: '1.0.0' } },
});

const CARD_A = '11111111-1111-4111-8111-111111111111';
const CARD_B = '22222222-2222-4222-8222-222222222222';

function ledger(now = { t: Date.parse('2026-11-21T12:00:00Z') }) {
  return { ledger: new FeedbackLedger({ maxCards: 3, ttlMs: 60_000, now: () => new Date(now.t) }), now };
}

describe('feedback request schema', () => {
  it('accepts the spec examples shapes and requires acceptedSuggestions for accepted', () => {
    expect(
      feedbackRequestSchema.safeParse({
        feedback: [{ card: CARD_A, outcome: 'accepted', acceptedSuggestions: [{ id: 'x' }], outcomeTimestamp: '2021-12-11T10:05:31Z' }],
      }).success,
    ).toBe(true);
    expect(feedbackRequestSchema.safeParse({ feedback: [{ card: CARD_A, outcome: 'accepted', outcomeTimestamp: '2021-12-11T10:05:31Z' }] }).success).toBe(false);
    expect(feedbackRequestSchema.safeParse({ feedback: [{ card: CARD_A, outcome: 'ignored', outcomeTimestamp: '2021-12-11T10:05:31Z' }] }).success).toBe(false);
    expect(feedbackRequestSchema.safeParse({ feedback: [{ card: CARD_A, outcome: 'overridden', outcomeTimestamp: 'yesterday' }] }).success).toBe(false);
  });
});

describe('FeedbackLedger', () => {
  it('attributes feedback to the rule that raised the card, with override reasons', async () => {
    const { ledger: l } = ledger();
    await l.issued(issuedCards([card(CARD_A, 'CI-HYPOKALEMIA'), card(CARD_B, 'MON-TELEMETRY', 'monitoring')]));
    expect(
      await l.record({ card: CARD_A, outcome: 'overridden', overrideReason: { reason: { system: 'urn:x', code: 'already-addressed' } }, outcomeTimestamp: '2026-11-21T12:01:00Z' }),
    ).toBe('recorded');
    expect(await l.record({ card: CARD_B, outcome: 'accepted', acceptedSuggestions: [{ id: 's' }], outcomeTimestamp: '2026-11-21T12:01:00Z' })).toBe('recorded');
    expect((await l.summary()).rules).toEqual([
      { id: 'CI-HYPOKALEMIA', version: '1.0.0', category: 'contraindication', shown: 1, accepted: 0, overridden: 1, overrideReasons: { 'urn:x|already-addressed': 1 } },
      { id: 'MON-TELEMETRY', version: '1.0.0', category: 'monitoring', shown: 1, accepted: 1, overridden: 0, overrideReasons: {} },
    ]);
  });

  it('counts repeated feedback once', async () => {
    const { ledger: l } = ledger();
    await l.issued(issuedCards([card(CARD_A, 'CI-HYPOKALEMIA')]));
    const item = { card: CARD_A, outcome: 'overridden' as const, outcomeTimestamp: '2026-11-21T12:01:00Z' };
    expect(await l.record(item)).toBe('recorded');
    expect(await l.record(item)).toBe('duplicate');
    expect((await l.summary()).rules[0]).toMatchObject({ overridden: 1, overrideReasons: { none: 1 } });
  });

  it('does not attribute feedback for unknown, expired or evicted cards', async () => {
    const { ledger: l, now } = ledger();
    await l.issued(issuedCards([card(CARD_A, 'CI-HYPOKALEMIA')]));
    expect(await l.record({ card: CARD_B, outcome: 'overridden', outcomeTimestamp: '2026-11-21T12:01:00Z' })).toBe('unknown-card');
    now.t += 61_000;
    expect(await l.record({ card: CARD_A, outcome: 'overridden', outcomeTimestamp: '2026-11-21T12:01:00Z' })).toBe('unknown-card');
    const many = ['a', 'b', 'c', 'd'].map((c, i) => card(`${String(i).repeat(8)}-0000-4000-8000-000000000000`, `R-${c}`));
    await l.issued(issuedCards(many));
    expect(await l.ruleFor(many[0]!.uuid)).toBeUndefined();
    expect(await l.ruleFor(many[3]!.uuid)).toMatchObject({ ruleId: 'R-d' });
  });
});
