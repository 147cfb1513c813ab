import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { testConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { loadRuleset } from '../../src/rules/load.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import type { Stores } from '../../src/stores/ports.js';
import { hookResponseSchema } from '../../src/cds/response-schema.js';
import { logCapture, staticSource } from '../helpers.js';

/** Stores whose database is down: every read fails, the ledger refuses, status is degraded. */
function downStores(): Stores {
  const base = memoryStores(testConfig());
  const down = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
  return {
    ...base,
    cards: {
      issued: () => {
        throw new Error('ledger queue unavailable');
      },
      find: down,
    },
    feedback: { record: down },
    analytics: { rules: down, timeseries: down },
    status: () => 'degraded',
  };
}

describe('a store outage', () => {
  it('never holds back cards; /readyz says store: degraded and stays 200; feedback and analytics answer 503', async () => {
    const config = testConfig();
    const capture = logCapture();
    const app = createApp({ config, logger: createLogger({ LOG_LEVEL: 'info' }, capture.stream), rules: staticSource(await loadRuleset(config.RULES_DIR)), stores: downStores() });
    const body = JSON.parse(readFileSync('examples/order-sign-milrinone.json', 'utf8')) as object;
    const hook = await request(app).post('/cds-services/inotrope-order-sign').send(body).expect(200);
    const cards = hookResponseSchema.parse(hook.body).cards;
    expect(cards.length).toBeGreaterThan(0);
    expect(capture.lines.some((l) => l.includes('card ledger: could not record a hook call'))).toBe(true);

    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ status: 'ready', store: 'degraded' });

    const feedback = await request(app)
      .post('/cds-services/inotrope-order-sign/feedback')
      .send({ feedback: [{ card: cards[0]!.uuid, outcome: 'overridden', outcomeTimestamp: '2026-11-21T12:01:00Z' }] })
      .expect(503);
    expect(feedback.body).toEqual({ error: 'unavailable', message: 'Feedback cannot be stored right now; send it again later' });
    await request(app).get('/analytics/rules').expect(503);
    await request(app).get('/feedback').expect(503);
    expect(capture.lines.join('\n')).not.toContain('ECONNREFUSED 127.0.0.1:5432');
  });
});
