import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ruleOf, type Card } from '../../src/shared/card.js';
import { makeApp } from '../helpers.js';

/**
 * Malformed fields over the wire: a draft dobutamine order for a patient with HOCM whose rate is the JSON
 * number 1e400 (beyond a double: Infinity once parsed) and whose authoredOn is a number, sent as raw JSON
 * text to the real app. The order is still dobutamine, so the critical contraindication comes, and a
 * data-quality card names both fields by JSON pointer without their values.
 */

const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/order-sign-dobutamine-hocm.json');

describe('POST /cds-services/inotrope-order-sign with wrong-typed fields in the draft order', () => {
  it('answers 200 with CI-HOCM and a data-quality card naming the fields, not their values', async () => {
    const body = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { context: { draftOrders: { entry: { resource: Record<string, unknown> }[] } } };
    const order = body.context.draftOrders.entry[0]!.resource;
    order.authoredOn = 987654321;
    const dosage = (order.dosageInstruction as { doseAndRate: { rateQuantity: { value: unknown } }[] }[])[0]!;
    dosage.doseAndRate[0]!.rateQuantity.value = '__HUGE__';
    const raw = JSON.stringify(body).replace('"__HUGE__"', '1e400');

    const { app } = await makeApp();
    const res = await request(app).post('/cds-services/inotrope-order-sign').set('content-type', 'application/json').send(raw).expect(200);
    const cards = res.body.cards as Card[];
    expect(cards.find((c) => ruleOf(c)?.id === 'CI-HOCM')?.indicator).toBe('critical');
    const quality = cards.find((c) => ruleOf(c)?.id === 'DQ-FETCH');
    expect(quality?.detail).toContain('/authoredOn');
    expect(quality?.detail).toContain('/dosageInstruction/0/doseAndRate/0/rateQuantity/value');
    expect(JSON.stringify(res.body)).not.toContain('987654321');
  });
});
