import { describe, expect, it } from 'vitest';
import { applyFeedback, cardRecords, feedbackRequestSchema, RULE_EXTENSION, silentFirings, type FeedbackItem } from '../../src/cds/feedback.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import type { Card } from '../../src/shared/card.js';

const CARD_A = '11111111-1111-4111-8111-111111111111';
const CARD_B = '22222222-2222-4222-8222-222222222222';
const SUGGESTION = '33333333-3333-4333-8333-333333333333';
const NOW = new Date('2026-11-21T12:00:00Z');
const CTX = { service: 'inotrope-order-sign', hook: 'order-sign', client: 'https://ehr.example', rulesetVersion: 'r1', issuedAt: NOW };

const card = (uuid: string, id: string, extra: Partial<Card> = {}, ext: Record<string, unknown> = {}): Card => ({
  uuid,
  summary: 'Potassium 3.1 mmol/L (2026-11-20) — correct before milrinone',
  indicator: 'warning',
  source: { label: 'inotrope-cds', topic: { system: 'urn:inotrope-cds:card-category', code: 'contraindication' } },
  overrideReasons: [{ system: 'urn:inotrope-cds:override-reason', code: 'already-addressed', display: 'Already addressed' }],
  extension: { [RULE_EXTENSION]: { id, version: '1.0.0', ...ext } },
  ...extra,
});

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

  it('caps code, system, comment and suggestion lengths and counts', () => {
    const item = (overrideReason: object, extra: object = {}) => ({
      feedback: [{ card: CARD_A, outcome: 'overridden', overrideReason, outcomeTimestamp: '2026-11-21T12:00:00Z', ...extra }],
    });
    expect(feedbackRequestSchema.safeParse(item({ reason: { system: 'urn:x', code: 'c'.repeat(64) }, userComment: 'u'.repeat(4000) })).success).toBe(true);
    expect(feedbackRequestSchema.safeParse(item({ reason: { system: 'urn:x', code: 'c'.repeat(65) } })).success).toBe(false);
    expect(feedbackRequestSchema.safeParse(item({ reason: { system: 's'.repeat(257), code: 'c' } })).success).toBe(false);
    expect(feedbackRequestSchema.safeParse(item({ userComment: 'u'.repeat(4001) })).success).toBe(false);
    const many = { outcome: 'accepted', acceptedSuggestions: Array.from({ length: 21 }, (_, i) => ({ id: `s${i}` })) };
    expect(feedbackRequestSchema.safeParse(item({}, many)).success).toBe(false);
  });
});

describe('card records', () => {
  it('keep rule, also rules, suggestions, offered reasons and the caller — no card text', () => {
    const c = card(CARD_A.toUpperCase(), 'DOSE-RENAL', { suggestions: [{ uuid: SUGGESTION, label: 'Reduce milrinone to 0.25 mcg/kg/min' }] }, {
      also: [{ id: 'DOSE-MAX', version: '2.0.0' }, 'DOSE-OLD'],
    });
    const [record] = cardRecords([c, { ...c, extension: {} }], CTX);
    expect(record).toEqual({
      uuid: CARD_A,
      ruleId: 'DOSE-RENAL',
      ruleVersion: '1.0.0',
      also: [
        { id: 'DOSE-MAX', version: '2.0.0' },
        { id: 'DOSE-OLD', version: 'unknown' },
      ],
      rulesetVersion: 'r1',
      service: 'inotrope-order-sign',
      hook: 'order-sign',
      client: 'https://ehr.example',
      category: 'contraindication',
      indicator: 'warning',
      suggestions: [{ uuid: SUGGESTION, label: 'Reduce milrinone to 0.25 mcg/kg/min' }],
      overrideReasons: ['urn:inotrope-cds:override-reason|already-addressed'],
      issuedAt: NOW,
    });
    expect(JSON.stringify(record)).not.toContain('Potassium');
  });

  it('record silent firings without a card', () => {
    const fired = [
      { id: 'SHADOW', version: '0.1.0', status: 'silent' as const, category: 'monitoring', indicator: 'info' },
      { id: 'ACTIVE', version: '1.0.0', status: 'active' as const, category: 'dosing', indicator: 'warning' },
    ];
    expect(silentFirings(fired, CTX)).toEqual([
      { ruleId: 'SHADOW', ruleVersion: '0.1.0', category: 'monitoring', service: 'inotrope-order-sign', client: 'https://ehr.example', firedAt: NOW },
    ]);
  });
});

describe('applyFeedback over the in-memory stores', () => {
  const setup = (maxCards = 1000) => {
    const stores = memoryStores({ FEEDBACK_MAX_CARDS: maxCards, JTI_CACHE_MAX: 100 });
    stores.cards.issued(cardRecords([card(CARD_A, 'CI-HYPOKALEMIA', { suggestions: [{ uuid: SUGGESTION, label: 'Order potassium' }] }), card(CARD_B, 'MON-TELEMETRY')], CTX), []);
    return stores;
  };
  const ctx = { client: CTX.client, service: CTX.service, receivedAt: NOW };
  const overridden = (code: string, cardUuid = CARD_B): FeedbackItem => ({
    card: cardUuid,
    outcome: 'overridden',
    overrideReason: { reason: { system: 'urn:inotrope-cds:override-reason', code }, userComment: 'Mr Smith refused' },
    outcomeTimestamp: '2026-11-21T12:01:00Z',
  });

  it('keeps an offered reason, `other` for any other, and only whether a comment was given', async () => {
    const stores = setup();
    expect(await applyFeedback(stores, overridden('already-addressed'), ctx)).toMatchObject({
      result: 'recorded',
      overrideReason: 'urn:inotrope-cds:override-reason|already-addressed',
    });
    expect(await applyFeedback(stores, overridden('made-up', CARD_A), ctx)).toMatchObject({ result: 'recorded', overrideReason: 'other' });
    const rules = await stores.analytics.rules({ from: NOW, to: new Date(NOW.getTime() + 1) });
    expect(rules.map((r) => [r.id, r.overrideReasons])).toEqual([
      ['CI-HYPOKALEMIA', { other: 1 }],
      ['MON-TELEMETRY', { 'urn:inotrope-cds:override-reason|already-addressed': 1 }],
    ]);
    expect(JSON.stringify(rules)).not.toContain('Smith');
  });

  it('refuses another client, another service, unknown suggestions; repeats and conflicts are not counted twice', async () => {
    const stores = setup();
    expect((await applyFeedback(stores, overridden('already-addressed'), { ...ctx, client: 'https://other.example' })).result).toBe('other-client');
    expect((await applyFeedback(stores, overridden('already-addressed'), { ...ctx, service: 'inotrope-patient-view' })).result).toBe('other-service');
    const accepted = (id: string): FeedbackItem => ({ card: CARD_A, outcome: 'accepted', acceptedSuggestions: [{ id }], outcomeTimestamp: '2026-11-21T12:01:00Z' });
    expect((await applyFeedback(stores, accepted('44444444-4444-4444-8444-444444444444'), ctx)).result).toBe('unknown-suggestion');
    expect((await applyFeedback(stores, accepted(SUGGESTION.toUpperCase()), ctx)).result).toBe('recorded');
    expect((await applyFeedback(stores, accepted(SUGGESTION), ctx)).result).toBe('duplicate');
    expect((await applyFeedback(stores, overridden('already-addressed', CARD_A), ctx)).result).toBe('conflict');
    expect((await applyFeedback(stores, overridden('x', '55555555-5555-4555-8555-555555555555'), ctx)).result).toBe('unknown-card');
    const [rule] = await stores.analytics.rules({ from: NOW, to: new Date(NOW.getTime() + 1) });
    expect(rule).toMatchObject({ id: 'CI-HYPOKALEMIA', shown: 1, accepted: 1, overridden: 0, acceptedSuggestions: { 'Order potassium': 1 } });
  });

  it('holds at most FEEDBACK_MAX_CARDS cards in memory (oldest first out, with its feedback)', async () => {
    const stores = setup(2);
    const third = '66666666-6666-4666-8666-666666666666';
    stores.cards.issued(cardRecords([card(third, 'R-3')], CTX), []);
    expect(await stores.cards.find(CARD_A)).toBeUndefined();
    expect(await stores.cards.find(third)).toMatchObject({ ruleId: 'R-3' });
    expect((await applyFeedback(stores, overridden('x', CARD_A), ctx)).result).toBe('unknown-card');
  });
});
