import { describe, expect, it } from 'vitest';
import { convert, displayUnit, formatNumber, formatQuantity, isUcum, quantityUnit, toUcum } from '../../src/facts/units.js';

describe('UCUM conversion', () => {
  it.each([
    [101, '[degF]', 'Cel', 38.3333],
    [38.3, 'Cel', '[degF]', 100.94],
    [185, '[lb_av]', 'kg', 83.9146],
    [16, '[oz_av]', 'kg', 0.4536],
    [70000, 'g', 'kg', 70],
    [150, '10*9/L', '10*3/uL', 150],
    [0.0005, 'mg/kg/min', 'ug/kg/min', 0.5],
    [60, 'ug/kg/h', 'ug/kg/min', 1],
    [12, 'mg/h', 'ug/min', 200],
    [30, '%', '%', 30],
    [80, '/min', '/min', 80],
    [90, 'mm[Hg]', 'mm[Hg]', 90],
    [45, 'mL/min/{1.73_m2}', 'mL/min/{1.73_m2}', 45],
  ])('%s %s → %s', (value, from, to, expected) => {
    expect(convert(value, from, to)).toBeCloseTo(expected, 3);
  });

  it('converts magnesium between mass and substance with the molar mass', () => {
    expect(convert(1, 'mmol/L', 'mg/dL', { molarMass: 24.305 })).toBeCloseTo(2.4305, 4);
    expect(convert(1.7, 'mg/dL', 'mmol/L', { molarMass: 24.305 })).toBeCloseTo(0.6994, 4);
  });

  it('refuses mass ↔ substance without a molar mass', () => {
    expect(convert(1.7, 'mg/dL', 'mmol/L')).toBeNull();
  });

  it('converts equivalents with the charge, and only with it', () => {
    expect(convert(4.1, 'meq/L', 'mmol/L', { charge: 1 })).toBeCloseTo(4.1, 6);
    expect(convert(2, 'meq/L', 'mmol/L', { charge: 2 })).toBeCloseTo(1, 6);
    expect(convert(4.1, 'meq/L', 'mmol/L')).toBeNull();
  });

  it('keeps annotations the target asks for: mL/min (Cockcroft-Gault) is not mL/min/{1.73_m2}', () => {
    expect(convert(45, 'mL/min', 'mL/min/{1.73_m2}')).toBeNull();
    expect(convert(45, 'mL/min/{1.73_m2}', 'mL/min/{1.73_m2}')).toBe(45);
    expect(convert(0.75, 'L/min/{1.73_m2}', 'mL/min/{1.73_m2}')).toBe(750);
    expect(convert(80, '{beats}/min', '/min')).toBe(80);
  });

  it('drops floating-point noise so values sit exactly on thresholds', () => {
    expect(convert(150, '10*3/uL', '10*9/L')).toBe(150);
  });

  it('returns null for incommensurable or invalid units instead of throwing', () => {
    expect(convert(7.5, 'mL/h', 'ug/min')).toBeNull();
    expect(convert(1, 'furlongs', 'kg')).toBeNull();
    expect(convert(1, '', 'kg')).toBeNull();
    expect(convert(Number.NaN, 'kg', 'g')).toBeNull();
  });

  it('validates UCUM case-sensitively', () => {
    expect(isUcum('ug/kg/min')).toBe(true);
    expect(isUcum('mL/min/{1.73_m2}')).toBe(true);
    expect(isUcum('mcg/kg/min')).toBe(false);
    expect(isUcum('')).toBe(false);
  });
});

describe('unit strings EHRs send without a UCUM code', () => {
  it.each([
    ['mcg/kg/min', 'ug/kg/min'],
    ['mcg/kg/hr', 'ug/kg/h'],
    ['mg/hr', 'mg/h'],
    ['ml/hr', 'mL/h'],
    ['mL/hour', 'mL/h'],
    ['lbs', '[lb_av]'],
    ['lb', '[lb_av]'],
    ['oz', '[oz_av]'],
    ['°F', '[degF]'],
    ['°C', 'Cel'],
    ['degF', '[degF]'],
    ['mEq/L', 'meq/L'],
    ['mg/dL', 'mg/dL'],
    ['mg/dl', 'mg/dL'],
    ['mmol/l', 'mmol/L'],
    ['K/uL', '10*3/uL'],
    ['x10^3/uL', '10*3/uL'],
    ['10^9/L', '10*9/L'],
    ['mmHg', 'mm[Hg]'],
    ['bpm', '/min'],
    ['beats/min', '/min'],
    ['mL/min/1.73m2', 'mL/min/{1.73_m2}'],
    ['mL/min/1.73 m2', 'mL/min/{1.73_m2}'],
    ['%', '%'],
    ['kg', 'kg'],
    ['µmol/L', 'umol/L'],
    ['μmol/L', 'umol/L'],
    ['μg/kg/min', 'ug/kg/min'],
  ])('%s → %s', (text, ucum) => {
    expect(toUcum(text)).toBe(ucum);
  });

  it('gives up on strings it cannot map', () => {
    expect(toUcum('drops per fortnight')).toBeNull();
    expect(toUcum('  ')).toBeNull();
  });

  it('prefers a UCUM code over the unit text, and ignores codes from other systems', () => {
    expect(quantityUnit({ value: 185, unit: 'pounds', system: 'http://unitsofmeasure.org', code: '[lb_av]' })).toBe('[lb_av]');
    expect(quantityUnit({ value: 185, unit: 'lbs' })).toBe('[lb_av]');
    expect(quantityUnit({ value: 185, unit: 'lbs', system: 'urn:local-units', code: 'LB' })).toBe('[lb_av]');
    expect(quantityUnit({ value: 1, unit: 'mcg/kg/min', code: 'mcg/kg/min' })).toBe('ug/kg/min');
    expect(quantityUnit({ value: 1 })).toBeNull();
    expect(quantityUnit(undefined)).toBeNull();
    expect(quantityUnit({ unit: 42, code: {} })).toBeNull();
  });
});

describe('display', () => {
  it('writes units as clinicians read them (mcg, not ug)', () => {
    expect(displayUnit('ug/kg/min')).toBe('mcg/kg/min');
    expect(displayUnit('Cel')).toBe('°C');
    expect(displayUnit('[lb_av]')).toBe('lb');
    expect(displayUnit('mm[Hg]')).toBe('mmHg');
    expect(displayUnit('mL/min/{1.73_m2}')).toBe('mL/min/1.73 m²');
    expect(displayUnit('10*3/uL')).toBe('10³/uL');
  });

  it.each([
    [83.9145884, '83.9'],
    [3.1, '3.1'],
    [4.1666667, '4.17'],
    [0.375, '0.375'],
    [0.5, '0.5'],
    [150, '150'],
    [100.4, '100.4'],
    [1234.56, '1234.6'],
    [0, '0'],
    [-2.5, '-2.5'],
  ])('formats %s as %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it('formats quantities', () => {
    expect(formatQuantity(3.1, 'mmol/L')).toBe('3.1 mmol/L');
    expect(formatQuantity(30, '%')).toBe('30%');
    expect(formatQuantity(88, '/min')).toBe('88/min');
    expect(formatQuantity(2, null)).toBe('2');
  });
});
