import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { makeApp } from '../helpers.js';
import { hookResponseSchema } from '../../src/cds/response-schema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (rel: string): object => JSON.parse(readFileSync(path.join(ROOT, rel), 'utf8')) as object;

describe('POST /cds-services/{id}/feedback', () => {
  it('attributes accepted and overridden cards to their rules, once per outcome', async () => {
    const { app, logs } = await makeApp({}, { logLevel: 'trace' });
    const hook = await request(app).post('/cds-services/inotrope-order-sign').send(read('examples/order-sign-milrinone.json')).expect(200);
    const { cards } = hookResponseSchema.parse(hook.body);
    const withSuggestion = cards.find((c) => c.suggestions)!;
    const other = cards.find((c) => c !== withSuggestion)!;
    const ruleOf = (c: (typeof cards)[number]) => (c.extension!['org.inotrope-cds.rule'] as { id: string }).id;

    const feedback = {
      feedback: [
        { card: withSuggestion.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: withSuggestion.suggestions![0]!.uuid }], outcomeTimestamp: '2026-11-21T12:01:00Z' },
        {
          card: other.uuid,
          outcome: 'overridden',
          overrideReason: { reason: { system: 'urn:inotrope-cds:override-reason', code: 'already-addressed' }, userComment: 'COMMENT-SECRET' },
          outcomeTimestamp: '2026-11-21T12:02:00Z',
        },
      ],
    };
    const first = await request(app).post('/cds-services/inotrope-order-sign/feedback').send(feedback).expect(200);
    expect(first.body).toEqual({ recorded: 2, duplicates: 0, unknownCards: 0 });
    const again = await request(app).post('/cds-services/inotrope-order-sign/feedback').send(feedback).expect(200);
    expect(again.body).toEqual({ recorded: 0, duplicates: 2, unknownCards: 0 });

    const summary = await request(app).get('/feedback').expect(200);
    const rules = summary.body.rules as { id: string; shown: number; accepted: number; overridden: number; overrideReasons: Record<string, number> }[];
    expect(rules.find((r) => r.id === ruleOf(withSuggestion))).toMatchObject({ shown: 1, accepted: 1, overridden: 0 });
    expect(rules.find((r) => r.id === ruleOf(other))).toMatchObject({
      shown: 1,
      accepted: 0,
      overridden: 1,
      overrideReasons: { 'urn:inotrope-cds:override-reason|already-addressed': 1 },
    });
    expect(rules.reduce((n, r) => n + r.shown, 0)).toBe(cards.length);
    expect(logs.join('\n')).not.toContain('COMMENT-SECRET');
    expect(logs.some((l) => l.includes('"card feedback"') && l.includes(ruleOf(other)))).toBe(true);
  });

  it.each(['feedback-accepted.json', 'feedback-overridden.json', 'feedback-overridden-with-reason.json'])(
    'accepts the spec example %s (for a card it did not issue)',
    async (file) => {
      const { app } = await makeApp();
      const res = await request(app).post('/cds-services/inotrope-patient-view/feedback').send(read(`test/fixtures/cds-hooks-examples/spec-stu2/${file}`));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ recorded: 0, duplicates: 0, unknownCards: 1 });
    },
  );

  it('400 for invalid feedback, 404 for an unknown service', async () => {
    const { app } = await makeApp();
    const bad = await request(app)
      .post('/cds-services/inotrope-order-sign/feedback')
      .send({ feedback: [{ card: 'not-a-uuid', outcome: 'accepted', outcomeTimestamp: 'now' }] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid-request', pointer: '/feedback/0/card' });
    await request(app).post('/cds-services/nope/feedback').send({ feedback: [] }).expect(404);
  });
});
