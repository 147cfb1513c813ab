import { describe, expect, it } from 'vitest';
import type { Observation } from '@medplum/fhirtypes';
import { FACTS } from '../../src/facts/index.js';
import { latestObservation, lookup, readLatest, tableOutput, unreadableObservations } from '../../src/facts/observations.js';
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

  it('does not fall back to an older value when the newest cannot be converted', () => {
    const value = latest({ valueSet: 'potassium', unit: 'mmol/L' }, [
      { code: '2823-3', value: 3.4, unit: 'mmol/L', hoursAgo: 10 },
      { code: '2823-3', value: 14, unit: 'mg/dL', hoursAgo: 1 },
      { code: '2823-3', value: 3, unit: 'furlongs', ucum: null, hoursAgo: 2 },
    ]);
    expect(value).toBeNull();
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

describe('reading the newest value (units per value set, same-instant duplicates)', () => {
  const read = (valueSet: string, observations: Observation[], unit?: string) =>
    readLatest(context(patientData({ observations })), valueSet, { maxAge: '7d', unit });

  it('reads eGFR recorded as mL/min as per 1.73 m², because the set declares it so', () => {
    const reading = read('egfr-declared', [observation({ code: '33914-3', value: 22, unit: 'mL/min', hoursAgo: 2 })], 'mL/min/{1.73_m2}');
    expect(reading.value).toMatchObject({ value: 22, unit: 'mL/min/{1.73_m2}' });
    expect(reading.value?.display).toBe('22 mL/min/1.73 m² (2026-11-21, recorded as 22 mL/min)');
  });

  it('reports a newest value in a unit the set does not accept, and does not use the older one', () => {
    const reading = read(
      'egfr-declared',
      [
        observation({ code: '33914-3', value: 40, unit: 'mL/min/{1.73_m2}', hoursAgo: 30 }),
        observation({ code: '33914-3', value: 22, unit: 'mL/s', hoursAgo: 2 }),
      ],
      'mL/min/{1.73_m2}',
    );
    expect(reading.value).toBeNull();
    expect(reading.unreadable).toEqual({
      name: 'eGFR',
      date: '2026-11-21T10:00:00.000Z',
      reason: 'recorded in "mL/s", not a unit accepted for eGFR',
      display: 'eGFR of 2026-11-21 10:00 UTC: recorded in "mL/s", not a unit accepted for eGFR',
    });
  });

  it('reports a newest value recorded as text, or with no value, instead of using an older one', () => {
    const text = { ...observation({ code: '10230-1', hoursAgo: 1 }), valueString: 'severely reduced' } as Observation;
    const older = observation({ code: '10230-1', value: 35, unit: '%', hoursAgo: 48 });
    expect(read('lvef', [older, text])).toMatchObject({ value: null, unreadable: { reason: 'recorded as text, not a number' } });
    expect(read('lvef', [older, observation({ code: '10230-1', hoursAgo: 1 })])).toMatchObject({ value: null, unreadable: { reason: 'no value' } });
  });

  it('prefers the race-free CKD-EPI 2021 eGFR over the race-coefficient pair recorded at the same instant', () => {
    const values = [
      observation({ code: '88293-6', value: 31, unit: 'mL/min/{1.73_m2}', hoursAgo: 3 }),
      observation({ code: '98979-8', value: 27, unit: 'mL/min/{1.73_m2}', hoursAgo: 3 }),
      observation({ code: '88294-4', value: 26, unit: 'mL/min/{1.73_m2}', hoursAgo: 3 }),
    ];
    const value = read('egfr-declared', values, 'mL/min/{1.73_m2}').value;
    expect(value).toMatchObject({ value: 27, code: `${LOINC}|98979-8`, sameTime: ['26 mL/min/1.73 m²', '31 mL/min/1.73 m²'] });
  });

  it('chooses among same-instant duplicates the same way whatever order the server sent them, and names both', () => {
    const a = observation({ code: '10230-1', value: 43.1, unit: '%', hoursAgo: 5 });
    const b = observation({ code: '10230-1', value: 31.8, unit: '%', hoursAgo: 5 });
    const first = read('lvef', [a, b]).value;
    const second = read('lvef', [b, a]).value;
    expect(first).toEqual(second);
    expect(first).toMatchObject({ value: 43.1, sameTime: ['31.8%'], display: '43.1% (2026-11-21; also 31.8% at the same time)' });
  });

  it('lists the unusable newest values of the sets the hook reads, once each', () => {
    const data = patientData({ observations: [observation({ code: '33914-3', value: 22, unit: 'mL/s', hoursAgo: 2 }), observation({ code: '10230-1', value: 35, unit: '%', hoursAgo: 2 })] });
    const ctx = { ...context(data), observed: [{ valueSet: 'egfr-declared', maxAge: '72h' }, { valueSet: 'lvef' }] };
    const list = unreadableObservations.compute({}, ctx);
    expect(list.names).toBe('eGFR');
    expect(list.items).toHaveLength(1);
    expect(unreadableObservations.compute({}, { ...ctx, observed: [{ valueSet: 'egfr-declared', maxAge: '1h' }] }).items).toEqual([]);
  });
});
