import { describe, expect, it, vi } from 'vitest';
import request from 'supertest';
import { UcumLhcUtils } from '@lhncbc/ucum-lhc';
import { convert, isUcum, MAX_UNIT_CHARS, toUcum } from '../../src/facts/units.js';
import { capStrings, MAX_STRING_CHARS, MAX_TEXT_CHARS } from '../../src/patient-data/fhir-schemas.js';
import { makeApp } from '../helpers.js';
import { expectLinearCost } from './cost.js';
import { validRequest, withHocmDisplay } from './security-helpers.js';
import { ruleOf, type Card } from '../../src/shared/card.js';

/**
 * Record-derived strings are cut to a bounded length when they enter PatientData, and unit strings longer
 * than a real unit never reach the UCUM parser (issue 16: a 96 k-character rate unit blocked a replica
 * for 13.7 s; 400 kB for over 6 minutes).
 */

// getInstance() hands out a new wrapper each time; the methods the facts call live on its prototype.
const ucumMethods = Object.getPrototypeOf(UcumLhcUtils.getInstance()) as ReturnType<typeof UcumLhcUtils.getInstance>;


describe('unit strings', () => {
  it('a unit string longer than any real unit is unreadable without being parsed, in linear time', async () => {
    const spy = vi.spyOn(ucumMethods, 'validateUnitString');
    try {
      const attack = (n: number) => `${'ug/'.repeat(n / 3)}kg/min`;
      expect(toUcum(attack(300))).toBeNull();
      expect(isUcum(attack(300))).toBe(false);
      expect(convert(1, attack(300), 'ug/kg/min')).toBeNull();
      expect(isUcum(`${'k'.repeat(MAX_UNIT_CHARS)}g`)).toBe(false);
      expect(spy).not.toHaveBeenCalled();
      // still read: real units, EHR spellings and annotations
      expect(toUcum('mcg/kg/min')).toBe('ug/kg/min');
      expect(toUcum('mL/min/1.73m2')).toBe('mL/min/{1.73_m2}');
      await expectLinearCost('toUcum', (n) => toUcum(attack(n)));
      await expectLinearCost('convert, annotations', (n) => convert(1, 'mL/min', `${'{'.repeat(n)}`));
    } finally {
      spy.mockRestore();
    }
  });

  it('conversions are memoised: the same conversion parses its units once', () => {
    const spy = vi.spyOn(ucumMethods, 'convertUnitTo');
    try {
      expect(convert(7.31, 'mg/min', 'ug/min')).toBe(7310);
      expect(convert(7.31, 'mg/min', 'ug/min')).toBe(7310);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(convert(7.32, 'mg/min', 'ug/min')).toBe(7320);
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('record-derived strings are cut when they enter patient data', () => {
  it('codes and displays to 256 characters, free text to 1024, in place, at any depth', () => {
    const long = 'x'.repeat(100_000);
    const resource = { code: { coding: [{ code: long, display: long }], text: long }, note: [{ text: long }], given: [long] };
    capStrings(resource);
    expect(resource.code.coding[0]!.code).toHaveLength(MAX_STRING_CHARS);
    expect(resource.code.coding[0]!.display.endsWith('…')).toBe(true);
    expect(resource.code.text).toHaveLength(MAX_TEXT_CHARS);
    expect(resource.note[0]!.text).toHaveLength(MAX_TEXT_CHARS);
    expect(resource.given[0]).toHaveLength(MAX_STRING_CHARS);
  });
});

describe('attacks replayed over HTTP', () => {
  const orderSign = '/cds-services/inotrope-order-sign';

  it("a 100 k-character rate unit gives the card about the rate's unit, in linear time", async () => {
    const { app, ruleset } = await makeApp();
    const call = async (n: number) => {
      const body = validRequest('order-sign', ruleset) as { context: { draftOrders: { entry: { resource: { dosageInstruction: { doseAndRate: unknown[] }[] } }[] } } };
      const order = body.context.draftOrders.entry[0]!.resource;
      order.dosageInstruction[0]!.doseAndRate = [{ rateQuantity: { value: 5, unit: `${'ug/'.repeat(n / 3)}kg/min` } }];
      const res = await request(app).post(orderSign).send(body);
      expect(res.status).toBe(200);
      const cards = res.body.cards as Card[];
      // The one card about this order's rate (DOSE-UNIT) says the unit cannot be converted.
      const rateCard = cards.find((c) => ruleOf(c)?.id === 'DOSE-UNIT');
      expect(rateCard?.detail).toContain('cannot be converted');
    };
    await expectLinearCost('order-sign with a long rate unit', call, { floorMs: 300 });
  }, 120_000);

  it("a 100 k-character condition display reaches the card cut to 256 characters", async () => {
    const { app, ruleset } = await makeApp();
    const display = `Hypertrophic obstructive cardiomyopathy ${'z'.repeat(100_000)}`;
    const body = withHocmDisplay(ruleset, display);
    const res = await request(app).post(orderSign).send(body);
    expect(res.status).toBe(200);
    const card = (res.body.cards as Card[]).find((c) => c.summary.startsWith('Dobutamine is contraindicated'));
    expect(card).toBeDefined();
    expect(card!.detail).toContain(`Hypertrophic obstructive cardiomyopathy ${'z'.repeat(200)}`);
    expect(card!.detail).not.toContain('z'.repeat(MAX_STRING_CHARS));
    expect(JSON.stringify(res.body).length).toBeLessThan(50_000);
  });
});
