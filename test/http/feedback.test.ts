import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { makeApp } from '../helpers.js';
import { hookResponseSchema } from '../../src/cds/response-schema.js';
import type { Card } from '../../src/shared/card.js';
import { emptyTallies } from '../../src/cds/feedback.js';
import { ISS, makeAuthApp, newKey, signToken, validRequest, type TestKey } from '../security/security-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (rel: string): object => JSON.parse(readFileSync(path.join(ROOT, rel), 'utf8')) as object;
const ruleOf = (c: Card) => (c.extension!['org.inotrope-cds.rule'] as { id: string }).id;
const OFFERED = { system: 'urn:inotrope-cds:override-reason', code: 'already-addressed' };
const tallies = (counts: Partial<ReturnType<typeof emptyTallies>>) => ({ ...emptyTallies(), ...counts });

async function issue(app: Parameters<typeof request>[0], service = 'inotrope-order-sign', body: object = read('examples/order-sign-milrinone.json')) {
  const hook = await request(app).post(`/cds-services/${service}`).send(body).expect(200);
  return hookResponseSchema.parse(hook.body).cards;
}

describe('POST /cds-services/{id}/feedback', () => {
  it('attributes accepted and overridden cards to their rules, once per card', async () => {
    const { app, logs } = await makeApp({}, { logLevel: 'trace' });
    const cards = await issue(app);
    const withSuggestion = cards.find((c) => c.suggestions)!;
    const other = cards.find((c) => c !== withSuggestion && c.overrideReasons)!;

    const feedback = {
      feedback: [
        { card: withSuggestion.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: withSuggestion.suggestions![0]!.uuid }], outcomeTimestamp: '2026-11-21T12:01:00Z' },
        {
          card: other.uuid,
          outcome: 'overridden',
          overrideReason: { reason: OFFERED, userComment: 'COMMENT-SECRET' },
          outcomeTimestamp: '2026-11-21T12:02:00Z',
        },
      ],
    };
    const first = await request(app).post('/cds-services/inotrope-order-sign/feedback').send(feedback).expect(200);
    expect(first.body).toEqual(tallies({ recorded: 2 }));
    const again = await request(app).post('/cds-services/inotrope-order-sign/feedback').send(feedback).expect(200);
    expect(again.body).toEqual(tallies({ duplicates: 2 }));

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
    const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'card feedback' && l.rule === ruleOf(other));
    expect(line).toMatchObject({ service: 'inotrope-order-sign', result: 'recorded', overrideReason: 'urn:inotrope-cds:override-reason|already-addressed' });
  });

  it.each(['feedback-accepted.json', 'feedback-overridden.json', 'feedback-overridden-with-reason.json'])(
    'accepts the spec example %s (for a card it did not issue)',
    async (file) => {
      const { app } = await makeApp();
      const res = await request(app).post('/cds-services/inotrope-patient-view/feedback').send(read(`test/fixtures/cds-hooks-examples/spec-stu2/${file}`));
      expect(res.status).toBe(200);
      expect(res.body).toEqual(tallies({ unknownCards: 1 }));
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

describe('feedback forgery', () => {
  let key: TestKey;
  let otherKey: TestKey;
  const OTHER_ISS = 'https://other-ehr.example.org';
  beforeAll(async () => {
    key = await newKey('ES384', 'ehr-key');
    otherKey = await newKey('ES384', 'other-key');
  });

  async function twoClients() {
    const made = await makeAuthApp(
      [
        { iss: ISS, jwks: { keys: [key.publicJwk] }, fhirServers: [] },
        { iss: OTHER_ISS, jwks: { keys: [otherKey.publicJwk] }, fhirServers: [] },
      ],
      {},
      { logLevel: 'info' },
    );
    const post = async (k: TestKey, iss: string, urlPath: string, body: object) =>
      request(made.app)
        .post(urlPath)
        .set('Authorization', `Bearer ${await signToken(k, { iss, aud: `https://cds.example.org${urlPath}` })}`)
        .send(body);
    const hook = await post(key, ISS, '/cds-services/inotrope-order-sign', validRequest('order-sign', made.ruleset));
    expect(hook.status).toBe(200);
    const cards = hookResponseSchema.parse(hook.body).cards;
    return { ...made, post, cards };
  }

  it('counts feedback only from the client that received the card, on the issuing service', async () => {
    const { post, cards, logs } = await twoClients();
    const card = cards.find((c) => c.overrideReasons)!;
    const item = { card: card.uuid, outcome: 'overridden', overrideReason: { reason: OFFERED }, outcomeTimestamp: '2026-11-21T12:01:00Z' };
    const stolen = await post(otherKey, OTHER_ISS, '/cds-services/inotrope-order-sign/feedback', { feedback: [item] });
    expect(stolen.status).toBe(200);
    expect(stolen.body).toEqual(tallies({ otherClient: 1 }));
    const elsewhere = await post(key, ISS, '/cds-services/inotrope-patient-view/feedback', { feedback: [item] });
    expect(elsewhere.body).toEqual(tallies({ otherService: 1 }));
    const own = await post(key, ISS, '/cds-services/inotrope-order-sign/feedback', { feedback: [item] });
    expect(own.body).toEqual(tallies({ recorded: 1 }));
    // The log line names the sending client, so a forger can be found.
    const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'card feedback');
    expect(lines.map((l) => [l.client, l.result])).toEqual([
      [OTHER_ISS, 'other-client'],
      [ISS, 'other-service'],
      [ISS, 'recorded'],
    ]);
  });

  it('refuses suggestion ids the card did not carry, and a conflicting second outcome', async () => {
    const { post, cards } = await twoClients();
    const url = '/cds-services/inotrope-order-sign/feedback';
    const [a, b] = cards;
    expect(a && b).toBeTruthy();
    const unknown = await post(key, ISS, url, {
      feedback: [{ card: a!.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: 'f0000000-0000-4000-8000-000000000000' }], outcomeTimestamp: '2026-11-21T12:01:00Z' }],
    });
    expect(unknown.body).toEqual(tallies({ unknownSuggestions: 1 }));
    const overridden = { card: a!.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-21T12:01:00Z' };
    expect((await post(key, ISS, url, { feedback: [overridden] })).body).toEqual(tallies({ recorded: 1 }));
    const conflicting = { card: a!.uuid, outcome: 'overridden', overrideReason: { reason: OFFERED }, outcomeTimestamp: '2026-11-21T12:03:00Z' };
    expect((await post(key, ISS, url, { feedback: [conflicting, overridden] })).body).toEqual(tallies({ conflicts: 1, duplicates: 1 }));
  });

  it('keeps 10 000 distinct override reasons bounded: each counts as `other`, and none reaches a log line', async () => {
    const { app, post, logs, cards } = await twoClients();
    const url = '/cds-services/inotrope-order-sign/feedback';
    const targets = cards.map((c) => c.uuid);
    const counts = emptyTallies();
    for (let r = 0; r < 100; r++) {
      const feedback = Array.from({ length: 100 }, (_, i) => ({
        card: targets[(r * 100 + i) % targets.length]!,
        outcome: 'overridden',
        overrideReason: { reason: { system: 'urn:attacker', code: `reason-${r}-${i}-${'x'.repeat(40)}` } },
        outcomeTimestamp: '2026-11-21T12:01:00Z',
      }));
      const res = await post(key, ISS, url, { feedback });
      expect(res.status).toBe(200);
      for (const [k, v] of Object.entries(res.body as Record<string, number>)) counts[k as keyof typeof counts] += v;
    }
    // One outcome per card (the first); every later item for the same card, same outcome and reason `other`, is a repeat.
    expect(counts).toEqual(tallies({ recorded: targets.length, duplicates: 10_000 - targets.length }));
    const summary = await request(app).get('/feedback').expect(200);
    const reasons = new Set((summary.body.rules as { overrideReasons: Record<string, number> }[]).flatMap((r) => Object.keys(r.overrideReasons)));
    expect([...reasons]).toEqual(['other']);
    expect(logs.join('\n')).not.toContain('reason-0-0');
    // Longer codes than the schema allows are malformed (400), not stored.
    const long = await post(key, ISS, url, {
      feedback: [{ card: targets[0], outcome: 'overridden', overrideReason: { reason: { system: 'urn:x', code: 'c'.repeat(9000) } }, outcomeTimestamp: '2026-11-21T12:01:00Z' }],
    });
    expect(long.status).toBe(400);
  });
});
