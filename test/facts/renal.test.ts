import { describe, expect, it } from 'vitest';
import type { Patient } from '@medplum/fhirtypes';
import { ckdEpi2021, renalFunction } from '../../src/facts/renal.js';
import { condition, context, observation, patientData } from './builder.js';

const PARAMS = renalFunction.params.parse({
  table: 'milrinone-renal-rate',
  maxAge: '72h',
  egfr: 'egfr-declared',
  clearance: 'creatinine-clearance',
  creatinine: 'creatinine',
  dialysis: 'esrd-or-dialysis',
});
const MAN_63: Patient = { resourceType: 'Patient', id: 'p1', gender: 'male', birthDate: '1963-08-19' };

const renal = (spec: Parameters<typeof patientData>[0]) => renalFunction.compute(PARAMS, context(patientData({ patient: MAN_63, ...spec })));

describe('ckdEpi2021 (Inker et al., NEJM 2021)', () => {
  it('gives the published equation, rounded as laboratories report it', () => {
    // 142 × (4.0/0.9)^-1.200 × 0.9938^63 = 16.0; female κ 0.7, α -0.241, × 1.012.
    expect(ckdEpi2021(4.0, 63, 'male')).toBe(16);
    expect(ckdEpi2021(4.0, 63, 'female')).toBe(12);
    // Below κ the α exponent applies: 142 × (0.6/0.7)^-0.241 × 0.9938^40 × 1.012 = 116.
    expect(ckdEpi2021(0.6, 40, 'female')).toBe(116);
    expect(ckdEpi2021(0.9, 50, 'male')).toBe(104);
  });
});

describe('renalFunction', () => {
  it('computes the eGFR from the newest creatinine when none is reported, and says so', () => {
    const value = renal({ observations: [observation({ code: '2160-0', value: 4, unit: 'mg/dL', hoursAgo: 6 })] });
    expect(value).toMatchObject({ basis: 'computed', value: 16, rate: 0.23, short: 'computed eGFR 16' });
    expect(value?.display).toContain('computed with CKD-EPI 2021 from creatinine 4 mg/dL');
  });

  it('takes the lower estimate when the sex is not recorded as female or male, and needs a birth date', () => {
    const creatinine = [observation({ code: '2160-0', value: 4, unit: 'mg/dL', hoursAgo: 6 })];
    expect(renal({ patient: { ...MAN_63, gender: 'unknown' }, observations: creatinine })).toMatchObject({ basis: 'computed', value: 12 });
    expect(renal({ patient: { resourceType: 'Patient', id: 'p1', gender: 'male' }, observations: creatinine })).toMatchObject({
      basis: 'none',
      rate: null,
      display: expect.stringContaining('no birth date'),
    });
  });

  it('uses the newest of eGFR, clearance and computed eGFR; a reported eGFR wins at the same instant', () => {
    const creatinine = observation({ code: '2160-0', value: 4, unit: 'mg/dL', hoursAgo: 6 });
    expect(renal({ observations: [creatinine, observation({ code: '35591-7', value: 25, unit: 'mL/min', hoursAgo: 2 })] })).toMatchObject({ basis: 'clearance', value: 25, rate: 0.28 });
    expect(renal({ observations: [creatinine, observation({ code: '98979-8', value: 45, unit: 'mL/min/{1.73_m2}', hoursAgo: 6 })] })).toMatchObject({ basis: 'egfr', value: 45, rate: 0.38 });
  });

  it('applies the lowest row for dialysis or end-stage renal disease on the problem list', () => {
    const value = renal({ conditions: [condition('46177005')], observations: [observation({ code: '98979-8', value: 75, unit: 'mL/min/{1.73_m2}', hoursAgo: 2 })] });
    expect(value).toMatchObject({ basis: 'dialysis', rate: 0.2 });
  });

  it('says what is missing when nothing is recent enough, and gives no rate above the table', () => {
    expect(renal({ observations: [observation({ code: '2160-0', value: 4, unit: 'mg/dL', hoursAgo: 80 })] })).toMatchObject({ basis: 'none', short: 'no creatinine or eGFR in 72h' });
    expect(renal({ observations: [observation({ code: '98979-8', value: 75, unit: 'mL/min/{1.73_m2}', hoursAgo: 2 })] })).toMatchObject({ basis: 'egfr', rate: null });
  });

  it('names its table and value sets, asks for them and watches them for unusable values', () => {
    expect(renalFunction.refs(PARAMS)).toHaveLength(5);
    expect(renalFunction.observes(PARAMS).map((o) => o.valueSet)).toEqual(['egfr-declared', 'creatinine-clearance', 'creatinine']);
  });
});
