import { describe, expect, it } from 'vitest';
import { FACTS } from '../../src/facts/index.js';
import { latestObservation, lookup, tableOutput } from '../../src/facts/observations.js';
import { context, knowledge, LOINC, observation, patientData, SNOMED } from './builder.js';

const latest = (params: unknown, observations: Parameters<typeof observation>[0][]) =>
  latestObservation.compute(
    latestObservation.params.parse(params),
    context(patientData({ observations: observations.map(observation) })),
  );

describe('latestObservation', () => {
  it('returns the newest value with a display', () => {
    const value = latest({ valueSet: 'potassium' }, [
      { code: '2823-3', value: 3.9, unit: 'mmol/L', hoursAgo: 30 },
      { code: '2823-3', value: 3.1, unit: 'mmol/L', hoursAgo: 12 },
    ]);
    expect(value).toMatchObject({
      value: 3.1,
      unit: 'mmol/L',
      code: `${LOINC}|2823-3`,
      date: '2026-11-21T00:00:00.000Z',
      display: '3.1 mmol/L (2026-11-21)',
    });
    expect((value as { reference: string }).reference).toMatch(/^Observation\//);
  });

  it('reads every code of the value set (blood potassium 6298-4, as Synthea records it)', () => {
    const value = latest({ valueSet: 'potassium' }, [
      { code: '2823-3', value: 4.2, unit: 'mmol/L', hoursAgo: 40 },
      { code: '6298-4', value: 3.2, unit: 'mmol/L', hoursAgo: 2 },
    ]);
    expect(value).toMatchObject({ value: 3.2, code: `${LOINC}|6298-4` });
  });

  it('treats values older than maxAge as missing (stale vs fresh)', () => {
    const obs = [{ code: '2823-3', value: 3.1, unit: 'mmol/L', hoursAgo: 80 }];
    expect(latest({ valueSet: 'potassium', maxAge: '72h' }, obs)).toBeNull();
    expect(latest({ valueSet: 'potassium', maxAge: '4d' }, obs)).toMatchObject({ value: 3.1 });
    expect(latest({ valueSet: 'potassium' }, obs)).toMatchObject({ value: 3.1 });
  });

  it('takes maxAge and unit from the threshold when the params do not give them', () => {
    expect(latest({ valueSet: 'potassium', threshold: 'potassium-low' }, [{ code: '2823-3', value: 3.1, unit: 'mmol/L', hoursAgo: 73 }])).toBeNull();
    expect(
      latest({ valueSet: 'magnesium', threshold: 'magnesium-low' }, [{ code: '2601-3', value: 0.6, unit: 'mmol/L', hoursAgo: 5 }]),
    ).toMatchObject({ value: 1.4583, unit: 'mg/dL' });
  });

  it('lets explicit params override the threshold', () => {
    const value = latest({ valueSet: 'potassium', threshold: 'potassium-low', maxAge: '7d' }, [
      { code: '2823-3', value: 3.1, unit: 'mmol/L', hoursAgo: 100 },
    ]);
    expect(value).toMatchObject({ value: 3.1 });
  });

  it('ignores cancelled and entered-in-error observations', () => {
    const value = latest({ valueSet: 'potassium' }, [
      { code: '2823-3', value: 4.0, unit: 'mmol/L', hoursAgo: 20 },
      { code: '2823-3', value: 2.1, unit: 'mmol/L', hoursAgo: 1, status: 'cancelled' },
      { code: '2823-3', value: 2.2, unit: 'mmol/L', hoursAgo: 2, status: 'entered-in-error' },
    ]);
    expect(value).toMatchObject({ value: 4.0 });
  });

  it('reads systolic pressure from a blood-pressure panel component', () => {
    const value = latest({ valueSet: 'systolic-bp', unit: 'mm[Hg]' }, [
      {
        code: '55284-4',
        hoursAgo: 1,
        components: [
          { code: '8480-6', value: 86, unit: 'mm[Hg]' },
          { code: '8462-4', value: 52, unit: 'mm[Hg]' },
        ],
      },
    ]);
    expect(value).toMatchObject({ value: 86, unit: 'mm[Hg]', display: '86 mmHg (2026-11-21)' });
  });

  it('skips a panel whose systolic component is missing', () => {
    const value = latest({ valueSet: 'systolic-bp' }, [
      { code: '55284-4', hoursAgo: 1, components: [{ code: '8462-4', value: 52, unit: 'mm[Hg]' }] },
    ]);
    expect(value).toBeNull();
  });

  it('converts a weight in pounds to kg and says what was recorded', () => {
    const value = latest({ valueSet: 'body-weight', unit: 'kg' }, [{ code: '29463-7', value: 185, unit: '[lb_av]', hoursAgo: 6 }]);
    expect(value).toMatchObject({ value: 83.91458845, unit: 'kg', display: '83.9 kg (2026-11-21, recorded as 185 lb)' });
  });

  it('understands "lbs" sent as text without a UCUM code', () => {
    const value = latest({ valueSet: 'body-weight', unit: 'kg' }, [{ code: '29463-7', value: 185, unit: 'lbs', ucum: null, hoursAgo: 6 }]);
    expect(value).toMatchObject({ value: 83.91458845, unit: 'kg' });
  });

  it('converts °F to Cel (fever of 101 °F = 38.3 °C)', () => {
    const value = latest({ valueSet: 'temperature', threshold: 'fever' }, [
      { code: '8331-1', value: 101, unit: '°F', ucum: null, hoursAgo: 3 },
    ]);
    expect(value).toMatchObject({ value: 38.3333333333, unit: 'Cel' });
    expect((value as { display: string }).display).toBe('38.3 °C (2026-11-21, recorded as 101 °F)');
  });

  it('compares magnesium in mmol/L and mg/dL through the molar mass', () => {
    const inMgDl = latest({ valueSet: 'magnesium', unit: 'mg/dL' }, [{ code: '19123-9', value: 1.6, unit: 'mg/dL', hoursAgo: 3 }]);
    const fromMmol = latest({ valueSet: 'magnesium', unit: 'mg/dL' }, [{ code: '2601-3', value: 0.66, unit: 'mmol/L', hoursAgo: 3 }]);
    const toMmol = latest({ valueSet: 'magnesium', unit: 'mmol/L' }, [{ code: '19123-9', value: 2.43, unit: 'mg/dL', hoursAgo: 3 }]);
    expect(inMgDl).toMatchObject({ value: 1.6 });
    expect(fromMmol).toMatchObject({ value: 1.60413 });
    expect(toMmol).toMatchObject({ value: 0.999794281012 });
  });

  it('reads potassium in mEq/L as mmol/L because the value set gives the charge', () => {
    const value = latest({ valueSet: 'potassium', unit: 'mmol/L' }, [{ code: '2823-3', value: 3.3, unit: 'mEq/L', ucum: null, hoursAgo: 3 }]);
    expect(value).toMatchObject({ value: 3.3, unit: 'mmol/L' });
  });

  it('reads platelets in 10*9/L as 10*3/uL', () => {
    const value = latest({ valueSet: 'platelets', threshold: 'platelets-low' }, [{ code: '777-3', value: 92, unit: '10*9/L', hoursAgo: 3 }]);
    expect(value).toMatchObject({ value: 92, unit: '10*3/uL' });
  });

  it('skips a value it cannot convert and falls back to an older one', () => {
    const value = latest({ valueSet: 'potassium', unit: 'mmol/L' }, [
      { code: '2823-3', value: 3.4, unit: 'mmol/L', hoursAgo: 10 },
      { code: '2823-3', value: 14, unit: 'mg/dL', hoursAgo: 1 },
      { code: '2823-3', value: 3, unit: 'furlongs', ucum: null, hoursAgo: 2 },
    ]);
    expect(value).toMatchObject({ value: 3.4 });
  });

  it('keeps a lab comparator visible', () => {
    const obs = observation({ code: '33914-3', value: 60, unit: 'mL/min/{1.73_m2}', hoursAgo: 5 });
    obs.valueQuantity = { ...obs.valueQuantity, comparator: '>' };
    const value = latestObservation.compute({ valueSet: 'egfr' }, context(patientData({ observations: [obs] })));
    expect(value).toMatchObject({ value: 60, comparator: '>', display: '> 60 mL/min/1.73 m² (2026-11-21)' });
  });

  it('returns a coded result as system|code when no unit is asked for', () => {
    const coded = [{ code: '88020-3', hoursAgo: 24, valueCoding: { system: SNOMED, code: '422293003', display: 'NYHA class IV' } }];
    expect(latest({ valueSet: 'nyha-assessment' }, coded)).toMatchObject({
      value: `${SNOMED}|422293003`,
      unit: null,
      display: 'NYHA class IV (2026-11-20)',
    });
    expect(latest({ valueSet: 'nyha-assessment', unit: '%' }, coded)).toBeNull();
  });

  it('returns null, not undefined, when there is nothing', () => {
    expect(latest({ valueSet: 'potassium' }, [])).toBeNull();
  });

  it('rejects malformed params at load time', () => {
    expect(() => latestObservation.params.parse({ valueSet: 'Potassium' })).toThrow();
    expect(() => latestObservation.params.parse({ valueSet: 'potassium', maxAge: '3 days' })).toThrow();
    expect(() => latestObservation.params.parse({ valueSet: 'potassium', unit: 'mEq/L' })).toThrow();
    expect(() => latestObservation.params.parse({ valueSet: 'potassium', typo: 1 })).toThrow();
  });

  it('names its value set and threshold for the loader, and asks for one observation search', () => {
    const params = latestObservation.params.parse({ valueSet: 'potassium', threshold: 'potassium-low' });
    expect(FACTS.latestObservation!.refs(params, knowledge().settings)).toEqual([
      { kind: 'valueSet', name: 'potassium' },
      { kind: 'threshold', name: 'potassium-low' },
    ]);
    expect(FACTS.latestObservation!.requirements(params, knowledge())).toEqual([
      {
        key: 'obs-potassium',
        label: 'Potassium observations',
        template: 'Observation?patient={{context.patientId}}&code=http://loinc.org|2823-3,http://loinc.org|6298-4&_sort=-date&_count=50',
        resourceType: 'Observation',
        paging: 'latest',
      },
    ]);
  });
});

describe('lookup', () => {
  const egfr = (value: number, hoursAgo = 10) =>
    lookup.compute(
      lookup.params.parse({ table: 'milrinone-renal-rate', observation: { valueSet: 'egfr', maxAge: '7d' } }),
      context(patientData({ observations: [observation({ code: '62238-1', value, unit: 'mL/min/{1.73_m2}', hoursAgo })] })),
    );

  it('uses the row at or below the input (floor)', () => {
    expect(egfr(45)).toEqual({
      input: { value: 45, unit: 'mL/min/{1.73_m2}', date: '2026-11-21T02:00:00.000Z', display: '45 mL/min/1.73 m² (2026-11-21)' },
      output: 0.38,
      outputUnit: 'ug/kg/min',
      display: '0.38 mcg/kg/min (for 45 mL/min/1.73 m² (2026-11-21))',
    });
    expect(egfr(50)).toMatchObject({ output: 0.43 });
    expect(egfr(3)).toMatchObject({ output: 0.2 });
  });

  it('yields null above the table, and when the value is stale', () => {
    expect(egfr(75)).toBeNull();
    expect(egfr(30, 24 * 8)).toBeNull();
  });

  it('reads eGFR sent as "mL/min/1.73m2" text', () => {
    const obs = observation({ code: '33914-3', value: 25, unit: 'mL/min/1.73m2', ucum: null, hoursAgo: 1 });
    const value = lookup.compute(
      { table: 'milrinone-renal-rate', observation: { valueSet: 'egfr', maxAge: '7d' } },
      context(patientData({ observations: [obs] })),
    );
    expect(value).toMatchObject({ output: 0.28 });
  });

  it('does not read a creatinine clearance in mL/min as normalised to 1.73 m²', () => {
    const obs = observation({ code: '62238-1', value: 25, unit: 'mL/min', hoursAgo: 1 });
    const value = lookup.compute(
      { table: 'milrinone-renal-rate', observation: { valueSet: 'egfr', maxAge: '7d' } },
      context(patientData({ observations: [obs] })),
    );
    expect(value).toBeNull();
  });

  it('interpolates when the table says so', () => {
    const rows = [
      [10, 0.23],
      [20, 0.28],
    ] as const;
    expect(tableOutput(rows, 'interpolate', 15)).toBeCloseTo(0.255, 6);
    expect(tableOutput(rows, 'interpolate', 20)).toBe(0.28);
    expect(tableOutput(rows, 'interpolate', 5)).toBe(0.23);
    expect(tableOutput(rows, 'interpolate', 21)).toBeNull();
    expect(tableOutput([], 'floor', 1)).toBeNull();
  });

  it('names the table and value set, and asks for the observation search', () => {
    const params = lookup.params.parse({ table: 'milrinone-renal-rate', observation: { valueSet: 'egfr', maxAge: '7d' } });
    expect(FACTS.lookup!.refs(params, knowledge().settings)).toEqual([
      { kind: 'table', name: 'milrinone-renal-rate' },
      { kind: 'valueSet', name: 'egfr' },
    ]);
    expect(FACTS.lookup!.requirements(params, knowledge()).map((r) => r.key)).toEqual(['obs-egfr']);
  });
});
