import { describe, expect, it } from 'vitest';
import { linkTitle } from '../../src/cards/build-card.js';
import { Absent, parseTemplate, render, type ParsedTemplate } from '../../src/cards/template.js';
import { doseCheckText } from '../../src/facts/rate.js';
import { formatDate, formatDateTime, formatHours, formatWindow, isRecent } from '../../src/facts/time.js';
import { displayOf, ICD10CM } from '../../src/facts/value-sets.js';
import { formatQuantity } from '../../src/facts/units.js';

/** The pieces that make card text readable: names without codes or tags, checks and durations in words. */

const template = (source: string): ParsedTemplate => {
  const parsed = parseTemplate(source);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.template;
};

describe('linkTitle', () => {
  it('leaves out the bracketed source keys a rule cites', () => {
    expect(linkTitle('Milrinone lactate US prescribing information (LBL-MIL): thrombocytopenia (0.4 %)')).toBe('Milrinone lactate US prescribing information: thrombocytopenia (0.4 %)');
    expect(linkTitle('Milrinone EU SmPC warnings (EU-MIL, via rxreasoner)')).toBe('Milrinone EU SmPC warnings');
    expect(linkTitle('2013 ACCF/AHA heart failure guideline, pocket guide (G2013): inotropic support (III: Harm, B)')).toBe('2013 ACCF/AHA heart failure guideline, pocket guide: inotropic support (III: Harm, B)');
  });

  it('keeps what is not a key: classes of recommendation, units, labelled codes, a source named in words', () => {
    for (const label of ['Guideline (I, C)', 'Guideline (III)', 'Dosing (mcg/kg/min)', 'US Core: AUDIT-C total score (LOINC 75626-2)', 'Patient guidance (WebMD, reviewed 2021-03-08)']) {
      expect(linkTitle(label)).toBe(label);
    }
  });
});

describe('displayOf', () => {
  it('drops a SNOMED CT semantic tag, and only a semantic tag', () => {
    expect(displayOf({ display: 'Atrial fibrillation (disorder)' })).toBe('Atrial fibrillation');
    expect(displayOf({ display: 'Central venous catheter, device (physical object)' })).toBe('Central venous catheter, device');
    expect(displayOf({ display: 'Nonrheumatic aortic (valve) stenosis' })).toBe('Nonrheumatic aortic (valve) stenosis');
  });

  it('names a code without a display by its value set, the code labelled by its system; never a bare code', () => {
    expect(displayOf({ system: ICD10CM, code: 'I47.2' }, undefined, undefined, 'Ventricular arrhythmia')).toBe('Ventricular arrhythmia (ICD-10-CM I47.2)');
    expect(displayOf({ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '309986' })).toBe('RxNorm 309986');
    expect(displayOf({ system: 'urn:local', code: '42' }, undefined, undefined, 'Beta blocker')).toBe('Beta blocker (code 42)');
  });
});

describe('doseCheckText', () => {
  it('says in words why a dose could not be checked, never the status code', () => {
    expect(doseCheckText('dose', { value: null, status: 'no-dose' })).toBe('none ordered');
    expect(doseCheckText('rate', { value: null, status: 'no-rate' })).toBe('no infusion rate on the order');
    expect(doseCheckText('rate', { value: null, status: 'no-concentration', from: '7.5 mL/h' })).toBe(
      '7.5 mL/h ordered, no concentration on the order or its product',
    );
    expect(doseCheckText('dose', { value: null, status: 'no-weight', from: '5 mg' })).toBe('5 mg ordered, no current body weight to convert it to mcg/kg');
  });
});

describe('units as a clinician reads them', () => {
  it('shows UCUM annotations and drops in words', () => {
    expect([formatQuantity(3, '{score}'), formatQuantity(130, '{beats}/min'), formatQuantity(10, '[drp]/min')]).toEqual(['3 points', '130 beats/min', '10 drops/min']);
    expect([formatQuantity(1, '{drinks}/d'), formatQuantity(1, '{score}'), formatQuantity(1, '[drp]/min'), formatQuantity(1, 'mg')]).toEqual(['1 drink/d', '1 point', '1 drop/min', '1 mg']);
  });
});

describe('durations', () => {
  it('reads hours up to two days, then days and hours; minutes below an hour', () => {
    expect([formatHours(0.5), formatHours(30), formatHours(144), formatHours(429.6)]).toEqual(['30 min', '30 h', '6 days', '17 days 22 h']);
  });

  it('shows a moment in the hospital\'s time zone with its abbreviation or offset, UTC by default', () => {
    const at = Date.parse('2026-11-21T11:30:00Z');
    expect([formatDateTime(at), formatDateTime(at, 'America/New_York'), formatDateTime(at, 'Asia/Kolkata'), formatDateTime(Date.parse('2026-07-01T11:30:00Z'), 'America/New_York')]).toEqual([
      '2026-11-21 11:30 UTC',
      '2026-11-21 06:30 EST',
      '2026-11-21 17:00 GMT+5:30',
      '2026-07-01 07:30 EDT',
    ]);
  });

  it('dates a moment by the hospital\'s calendar: 02:00 UTC is the evening before in New York', () => {
    const at = Date.parse('2026-11-21T02:00:00Z');
    expect([formatDate(at), formatDate(at, 'America/New_York')]).toEqual(['2026-11-21', '2026-11-20']);
  });

  it('counts a record as recent within the window, not before it and not in the future', () => {
    const now = new Date('2026-11-21T12:00:00Z');
    expect(['2026-11-14T12:00:00Z', '2026-11-14T11:59:00Z', '2026-11-21T13:00:00Z', undefined].map((at) => isRecent(at, '7d', now))).toEqual([true, false, false, false]);
  });

  it('words a rule window', () => {
    expect([formatWindow('72h'), formatWindow('7d'), formatWindow('1y'), formatWindow('30min')]).toEqual(['72 h', '7 days', '1 year', '30 min']);
  });
});

describe('missing values on a card', () => {
  it('read as the fact words them: a null fact as its Absent text, a null field as its object\'s absent record, else unknown', () => {
    const values = new Map<string, unknown>([
      ['potassium', new Absent('3.3 mmol/L on 2026-11-21, 15 days ago — older than 72 h')],
      ['order', { loadingDose: null, absent: { loadingDose: 'none ordered' }, rate: null }],
    ]);
    expect(render(template('K {{potassium}}; K {{potassium.value}}'), values)).toBe('K 3.3 mmol/L on 2026-11-21, 15 days ago — older than 72 h; K 3.3 mmol/L on 2026-11-21, 15 days ago — older than 72 h');
    expect(render(template('loading dose {{order.loadingDose}}, rate {{order.rate}}'), values)).toBe('loading dose none ordered, rate unknown');
  });
});
