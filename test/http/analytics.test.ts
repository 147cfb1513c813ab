import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { makeApp } from '../helpers.js';
import { hookResponseSchema } from '../../src/cds/response-schema.js';
import type { Card } from '../../src/shared/card.js';
import { csv } from '../../src/http/analytics-routes.js';

const ruleOf = (c: Card) => (c.extension!['org.inotrope-cds.rule'] as { id: string; version: string });
/** The suggestion labels a rule's file writes (placeholders unrendered). */
function ruleFileSuggestionLabels(id: string): string[] {
  for (const file of readdirSync('rules/rules')) {
    const { rules } = JSON.parse(readFileSync(`rules/rules/${file}`, 'utf8')) as { rules: { id: string; card?: { suggestions?: { label: string }[] } }[] };
    const rule = rules.find((r) => r.id === id);
    if (rule) return (rule.card?.suggestions ?? []).map((s) => s.label);
  }
  return [];
}
const body = () => JSON.parse(readFileSync('examples/order-sign-milrinone.json', 'utf8')) as object;

/** makeApp's clock is 2026-11-21T12:00:00Z: cards are issued then, and the default window is the 30 days before. */
async function withFeedback() {
  const made = await makeApp();
  const hook = await request(made.app).post('/cds-services/inotrope-order-sign').send(body()).expect(200);
  const cards = hookResponseSchema.parse(hook.body).cards;
  const accepted = cards.find((c) => c.suggestions)!;
  const overridden = cards.find((c) => c !== accepted && c.overrideReasons)!;
  await request(made.app)
    .post('/cds-services/inotrope-order-sign/feedback')
    .send({
      feedback: [
        { card: accepted.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: accepted.suggestions![0]!.uuid }], outcomeTimestamp: '2026-11-21T12:01:00Z' },
        { card: overridden.uuid, outcome: 'overridden', overrideReason: { reason: { system: 'urn:x', code: 'not-offered' } }, outcomeTimestamp: '2026-11-21T12:01:00Z' },
      ],
    })
    .expect(200);
  return { ...made, cards, accepted, overridden };
}

describe('GET /analytics/rules', () => {
  it('gives per-rule counts over the last 30 days by default, with the field names of the issue', async () => {
    const { app, cards, accepted, overridden } = await withFeedback();
    const res = await request(app).get('/analytics/rules').expect(200);
    const rules = res.body.rules as Record<string, unknown>[];
    expect(rules.reduce((n, r) => n + (r.shown as number), 0)).toBe(cards.length);
    const rule = rules.find((r) => r.id === ruleOf(overridden).id)!;
    expect(Object.keys(rule).sort()).toEqual(
      ['acceptedSuggestions', 'accepted', 'category', 'id', 'noFeedback', 'overrideRate', 'overrideReasons', 'overridden', 'shown', 'silentFirings', 'version'].sort(),
    );
    expect(rule).toMatchObject({ version: ruleOf(overridden).version, shown: 1, overridden: 1, overrideRate: 1, overrideReasons: { other: 1 }, noFeedback: 0 });
    // The accepted suggestion is counted by its label as the rule file writes it.
    const labels = ruleFileSuggestionLabels(ruleOf(accepted).id);
    const entry = rules.find((r) => r.id === ruleOf(accepted).id)!;
    expect(entry).toMatchObject({ accepted: 1, overrideRate: 0 });
    expect(Object.keys(entry.acceptedSuggestions as object)).toHaveLength(1);
    expect(labels).toContain(Object.keys(entry.acceptedSuggestions as object)[0]);
  });

  it('filters by window, service and client, and refuses bad parameters with 400', async () => {
    const { app } = await withFeedback();
    expect((await request(app).get('/analytics/rules?from=2026-11-22').expect(400)).body.message).toMatch(/from must be before to/);
    expect((await request(app).get('/analytics/rules?from=2026-11-20&to=2026-11-21').expect(200)).body.rules).toEqual([]);
    expect((await request(app).get('/analytics/rules?from=2026-11-21T12:00:00Z&to=2026-11-21T12:00:00.001Z').expect(200)).body.rules.length).toBeGreaterThan(0);
    expect((await request(app).get('/analytics/rules?service=inotrope-patient-view').expect(200)).body.rules).toEqual([]);
    expect((await request(app).get('/analytics/rules?client=https://ehr.example').expect(200)).body.rules).toEqual([]);
    const bad = await request(app).get('/analytics/rules?from=yesterday').expect(400);
    expect(bad.body).toMatchObject({ error: 'invalid-request', message: expect.stringMatching(/^Invalid query parameter from: must be an RFC 3339 date or date-time/) });
    await request(app).get('/analytics/rules?from=2000-01-01&to=2026-01-01').expect(400);
  });

  it('answers CSV whose columns are the JSON field names', async () => {
    const { app } = await withFeedback();
    const res = await request(app).get('/analytics/rules').set('Accept', 'text/csv').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = res.text.trimEnd().split('\r\n');
    expect(header).toBe('id,version,category,shown,accepted,overridden,noFeedback,overrideRate,overrideReasons,acceptedSuggestions,silentFirings');
    const json = (await request(app).get('/analytics/rules').expect(200)).body.rules as unknown[];
    expect(rows).toHaveLength(json.length);
    expect(rows.some((r) => r.includes('"{""other"":1}"'))).toBe(true);
  });

  it('has no CORS headers (an operator route)', async () => {
    const { app } = await makeApp();
    const res = await request(app).get('/analytics/rules').set('Origin', 'https://evil.example').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('GET /analytics/rules/{id}/timeseries', () => {
  it('gives daily and Monday-start weekly buckets in UTC, JSON or CSV', async () => {
    const { app, overridden } = await withFeedback();
    const id = ruleOf(overridden).id;
    const days = await request(app).get(`/analytics/rules/${id}/timeseries?bucket=day&from=2026-11-20&to=2026-11-22`).expect(200);
    expect(days.body).toEqual({
      id,
      bucket: 'day',
      points: [
        { start: '2026-11-20T00:00:00Z', shown: 0, accepted: 0, overridden: 0, silentFirings: 0 },
        { start: '2026-11-21T00:00:00Z', shown: 1, accepted: 0, overridden: 1, silentFirings: 0 },
      ],
    });
    const weeks = await request(app).get(`/analytics/rules/${id}/timeseries?bucket=week`).expect(200);
    // The default window is the 30 days up to now (2026-11-21T12:00Z): weeks from Monday 2026-10-19.
    expect(weeks.body.points.map((p: { start: string }) => p.start)).toEqual([
      '2026-10-19T00:00:00Z',
      '2026-10-26T00:00:00Z',
      '2026-11-02T00:00:00Z',
      '2026-11-09T00:00:00Z',
      '2026-11-16T00:00:00Z',
    ]);
    expect(weeks.body.points.at(-1)).toMatchObject({ shown: 1, overridden: 1 });
    const csvRes = await request(app).get(`/analytics/rules/${id}/timeseries?from=2026-11-21&to=2026-11-22`).set('Accept', 'text/csv').expect(200);
    expect(csvRes.text).toBe('start,shown,accepted,overridden,silentFirings\r\n2026-11-21T00:00:00Z,1,0,1,0\r\n');
    await request(app).get(`/analytics/rules/${id}/timeseries?bucket=month`).expect(400);
    await request(app).get(`/analytics/rules/${id}/timeseries?bucket=day&from=2020-01-01&to=2026-01-01`).expect(400);
  });
});

describe('csv', () => {
  it('quotes separators and quotes, and defuses spreadsheet formulas', () => {
    expect(csv(['a', 'b', 'c'], [{ a: 'x,y', b: '=HYPERLINK("evil")', c: null }])).toBe('a,b,c\r\n"x,y","\'=HYPERLINK(""evil"")",\r\n');
  });
});
