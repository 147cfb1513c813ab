import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { FACTS } from '../../src/facts/index.js';
import { loadRuleset } from '../../src/rules/load.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import { ruleOf, type Card } from '../../src/shared/card.js';
import { logCapture, staticSource } from '../helpers.js';

/**
 * A rule or fact that throws must not fail the call: the others still answer, a data-quality card names
 * the checks that did not run (titles, no patient data), and the failure is logged and counted by rule id.
 */
describe('rule isolation (a fact that throws, over HTTP)', () => {
  it('answers 200 with every card that does not need the failing fact, plus DQ-CHECK-FAILED', async () => {
    const config = testConfig();
    const capture = logCapture();
    const metrics = new Metrics();
    // A defect in one fact, with patient data in its message (which must not leave the process).
    const failing = { ...FACTS.latestObservation!, compute: () => { throw new TypeError('cannot read potassium 3.3 mmol/L'); } };
    const ruleset = await loadRuleset(config.RULES_DIR, { ...FACTS, latestObservation: failing });
    const now = new Date('2026-11-21T12:00:00Z');
    const app = createApp({ config, logger: createLogger({ LOG_LEVEL: 'info' }, capture.stream), rules: staticSource(ruleset), stores: memoryStores(config, () => now), metrics, now: () => now });
    const body = JSON.parse(await readFile('examples/order-sign-milrinone.json', 'utf8')) as Record<string, unknown>;

    const res = await request(app).post('/cds-services/inotrope-order-sign').send(body);
    expect(res.status).toBe(200);
    const cards = res.body.cards as Card[];
    const ids = cards.map((c) => ruleOf(c)?.id);
    // Checks that read no observation still answer (the Y-site incompatibility with the running furosemide).
    expect(ids).toContain('IV-INCOMPATIBLE');
    const dq = cards.find((c) => ruleOf(c)?.id === 'DQ-CHECK-FAILED')!;
    expect(dq.indicator).toBe('warning');
    expect(dq.detail).toContain('Hypokalemia before or during an inotrope');
    expect(JSON.stringify(res.body)).not.toContain('3.3 mmol/L');

    const logged = capture.lines.filter((l) => l.includes('rule failed and was isolated'));
    expect(logged.some((l) => l.includes('"rule":"CI-HYPOKALEMIA"') && l.includes('"errorType":"TypeError"'))).toBe(true);
    expect(capture.lines.join('\n')).not.toContain('3.3 mmol/L');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/cds_rule_errors_total\{rule="CI-HYPOKALEMIA"\} 1/);
  });
});
