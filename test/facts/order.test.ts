import type { Dosage, Medication, MedicationAdministration } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import type { MedicationOrder } from '../../src/shared/patient-data.js';
import { order, type OrderValue } from '../../src/facts/order.js';
import { perBodyMass } from '../../src/facts/rate.js';
import { ago, context, knowledge, medicationOrder, observation, patientData, quantity, RXNORM, UCUM } from './builder.js';

type DoseAndRate = NonNullable<Dosage['doseAndRate']>[number];

const ORDERED = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/dose-rate-type', code: 'ordered' }] };
const CALCULATED = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/dose-rate-type', code: 'calculated' }] };

/** Dobutamine 400 mg in 250 mL D5W (1.6 mg/mL), as a contained Medication like HL7 medrx0336–0338. */
const DOBUTAMINE_BAG: Medication = {
  resourceType: 'Medication',
  code: { text: 'dobutamine 400 mg in 250 mL D5W' },
  ingredient: [
    {
      itemCodeableConcept: { coding: [{ system: RXNORM, code: '3616', display: 'dobutamine' }] },
      strength: { numerator: quantity(400, 'mg'), denominator: quantity(250, 'mL') },
    },
    {
      itemCodeableConcept: { text: 'dextrose 5% in water' },
      strength: { numerator: quantity(5, 'g'), denominator: quantity(100, 'mL') },
    },
  ],
};

const weight = (value: number, unit = 'kg', hoursAgo = 6) => observation({ code: '29463-7', value, unit, hoursAgo });

function evaluate(
  subject: MedicationOrder,
  options: { weights?: ReturnType<typeof weight>[]; others?: MedicationOrder[]; administrations?: MedicationAdministration[] } = {},
): OrderValue {
  const data = patientData({
    observations: options.weights ?? [weight(50)],
    orders: [subject, ...(options.others ?? [])],
    administrations: options.administrations ?? [],
  });
  return order.compute({}, context(data, { subject })) as OrderValue;
}

const dobutamine = (doseAndRate: DoseAndRate[], extra: Parameters<typeof medicationOrder>[0] = {}) =>
  medicationOrder({ medication: DOBUTAMINE_BAG, doseAndRate, ...extra });

describe('order: rate normalised to ug/kg/min', () => {
  describe('one drip written three ways (HL7 medrx0336–0338 shapes)', () => {
    it('4 ug/kg/min as ordered', () => {
      const value = evaluate(dobutamine([{ type: ORDERED, rateQuantity: quantity(4, 'ug/kg/min') }]));
      expect(value.rateStatus).toBe('ok');
      expect(value.rate).toEqual({ value: 4, unit: 'ug/kg/min', display: '4 mcg/kg/min', from: '4 mcg/kg/min', orderedUnit: 'ug/kg/min' });
      expect(value.drug).toBe('dobutamine');
    });

    it('200 ug/min with a 50 kg weight', () => {
      const value = evaluate(dobutamine([{ rateQuantity: quantity(200, 'ug/min') }]));
      expect(value.rate).toEqual({ value: 4, unit: 'ug/kg/min', display: '4 mcg/kg/min (200 mcg/min, 50 kg)', from: '200 mcg/min', orderedUnit: 'ug/min' });
    });

    it('7.5 mL/h with the bag concentration (1.6 mg/mL) and the weight', () => {
      const value = evaluate(dobutamine([{ rateQuantity: quantity(7.5, 'mL/h') }]));
      expect(value.rate).toEqual({
        value: 4,
        unit: 'ug/kg/min',
        display: '4 mcg/kg/min (7.5 mL/h at 1600 mcg/mL, 50 kg)',
        from: '7.5 mL/h',
        orderedUnit: 'mL/h',
      });
      expect(value.weight).toMatchObject({ value: 50, unit: 'kg' });
    });
  });

  it.each([
    [quantity(0.5, 'mcg/kg/min', null), 0.5],
    [quantity(0.5, 'mcg/kg/min', 'mcg/kg/min'), 0.5],
    [quantity(0.0005, 'mg/kg/min'), 0.5],
    [quantity(30, 'ug/kg/h'), 0.5],
    [quantity(1.5, 'mg/h'), 0.5],
    [quantity(25, 'ug/min'), 0.5],
    [quantity(0.5, 'ug/min/kg'), 0.5],
  ])('rateQuantity %j → %s ug/kg/min', (rateQuantity, expected) => {
    const value = evaluate(medicationOrder({ code: '52769', doseAndRate: [{ rateQuantity }] }));
    expect(value.rateStatus).toBe('ok');
    expect(value.rate?.value).toBeCloseTo(expected, 9);
  });

  it('reads a pump rate with the product code concentration (milrinone 0.2 mg/mL premix, 70 kg, 10.5 mL/h = 0.5)', () => {
    const value = evaluate(medicationOrder({ code: '1791840', doseAndRate: [{ rateQuantity: quantity(10.5, 'mL/h') }] }), {
      weights: [weight(70)],
    });
    expect(value.rate?.value).toBeCloseTo(0.5, 9);
    expect(value.drug).toBe('milrinone');
  });

  it('reads a weight in pounds for a mass rate', () => {
    const value = evaluate(medicationOrder({ code: '52769', doseAndRate: [{ rateQuantity: quantity(42, 'ug/min') }] }), {
      weights: [weight(185, '[lb_av]')],
    });
    expect(value.rate?.value).toBeCloseTo(42 / 83.91458845, 6);
    expect(value.weight).toMatchObject({ unit: 'kg', value: 83.91458845 });
  });

  describe('why there is no rate', () => {
    it('no-concentration: mL/h on an ingredient-only order', () => {
      const value = evaluate(medicationOrder({ code: '52769', doseAndRate: [{ rateQuantity: quantity(10.5, 'mL/h') }] }));
      expect(value).toMatchObject({ rate: null, rateStatus: 'no-concentration' });
    });

    it('no-concentration: a vial concentrate whose strength the value set does not give', () => {
      const value = evaluate(medicationOrder({ code: '1791854', doseAndRate: [{ rateQuantity: quantity(10.5, 'mL/h') }] }));
      expect(value.rateStatus).toBe('no-concentration');
    });

    it('no-concentration: never the diluent strength when the drug ingredient gives none', () => {
      const bag: Medication = {
        resourceType: 'Medication',
        code: { coding: [{ system: RXNORM, code: '3616' }] },
        ingredient: [
          { itemCodeableConcept: { coding: [{ system: RXNORM, code: '3616' }] } },
          { itemCodeableConcept: { text: 'dextrose 5%' }, strength: { numerator: quantity(5, 'g'), denominator: quantity(100, 'mL') } },
        ],
      };
      const value = evaluate(medicationOrder({ medication: bag, doseAndRate: [{ rateQuantity: quantity(7.5, 'mL/h') }] }));
      expect(value.rateStatus).toBe('no-concentration');
    });

    it('reads the strength of a single-ingredient Medication coded by product', () => {
      const vial: Medication = {
        resourceType: 'Medication',
        code: { coding: [{ system: RXNORM, code: '1791854' }] },
        ingredient: [{ itemCodeableConcept: { text: 'milrinone lactate' }, strength: { numerator: quantity(200, 'ug'), denominator: quantity(1, 'mL') } }],
      };
      const value = evaluate(medicationOrder({ medication: vial, doseAndRate: [{ rateQuantity: quantity(10.5, 'mL/h') }] }), { weights: [weight(70)] });
      expect(value.rate?.value).toBeCloseTo(0.5, 9);
    });

    it('no-weight: no weight at all, or only a stale one', () => {
      const subject = () => dobutamine([{ rateQuantity: quantity(200, 'ug/min') }]);
      expect(evaluate(subject(), { weights: [] })).toMatchObject({ rate: null, rateStatus: 'no-weight', weight: null });
      expect(evaluate(subject(), { weights: [weight(50, 'kg', 24 * 8)] })).toMatchObject({ rateStatus: 'no-weight' });
      expect(evaluate(dobutamine([{ rateQuantity: quantity(7.5, 'mL/h') }]), { weights: [] }).rateStatus).toBe('no-weight');
    });

    it('no-weight is not needed for a weight-based rate', () => {
      expect(evaluate(dobutamine([{ rateQuantity: quantity(4, 'ug/kg/min') }]), { weights: [] }).rateStatus).toBe('ok');
    });

    it('unsupported-unit: drops (the drop size depends on the giving set), units, or no unit', () => {
      const shapes = [quantity(20, '{drop}/min'), quantity(10, '[drp]/min'), quantity(2, '[iU]/h'), { value: 4 }, quantity(1, 'wombats/h', null)];
      for (const rateQuantity of shapes) {
        expect(evaluate(dobutamine([{ rateQuantity }])).rateStatus).toBe('unsupported-unit');
      }
    });

    it('no-rate: nothing stated, or a rate without a number', () => {
      expect(evaluate(dobutamine([])).rateStatus).toBe('no-rate');
      expect(evaluate(dobutamine([{ rateQuantity: { unit: 'mL/h' } }])).rateStatus).toBe('no-rate');
      expect(evaluate(medicationOrder({ code: '3616' })).rateStatus).toBe('no-rate');
    });
  });

  describe('rateRatio', () => {
    it('numerator ug/kg per 1 min', () => {
      const value = evaluate(dobutamine([{ rateRatio: { numerator: quantity(4, 'ug/kg'), denominator: quantity(1, 'min') } }]));
      expect(value.rate).toMatchObject({ value: 4, from: '4 mcg/kg per 1 min' });
    });

    it('numerator ug per 1 min, with weight', () => {
      const value = evaluate(dobutamine([{ rateRatio: { numerator: quantity(200, 'ug'), denominator: quantity(1, 'min') } }]));
      expect(value.rate?.value).toBe(4);
    });

    it('numerator mg per 2 h, and mL per h with concentration', () => {
      const mg = evaluate(dobutamine([{ rateRatio: { numerator: quantity(24, 'mg'), denominator: quantity(2, 'h') } }]));
      expect(mg.rate?.value).toBe(4);
      const ml = evaluate(dobutamine([{ rateRatio: { numerator: quantity(7.5, 'mL'), denominator: quantity(1, 'h') } }]));
      expect(ml.rate?.value).toBe(4);
    });

    it('a denominator without a unit or of zero is not a rate', () => {
      expect(evaluate(dobutamine([{ rateRatio: { numerator: quantity(4, 'ug/kg'), denominator: { value: 1 } } }])).rateStatus).toBe(
        'unsupported-unit',
      );
      expect(evaluate(dobutamine([{ rateRatio: { numerator: quantity(4, 'ug/kg'), denominator: quantity(0, 'min') } }])).rateStatus).toBe(
        'no-rate',
      );
    });
  });

  it('rateRange: checks the top of the range', () => {
    const value = evaluate(
      medicationOrder({ code: '52769', doseAndRate: [{ rateRange: { low: quantity(0.375, 'ug/kg/min'), high: quantity(0.75, 'ug/kg/min') } }] }),
    );
    expect(value.rate).toMatchObject({ value: 0.75, from: '0.75 mcg/kg/min (top of the ordered range)' });
    const lowOnly = evaluate(medicationOrder({ code: '52769', doseAndRate: [{ rateRange: { low: quantity(0.375, 'ug/kg/min'), high: { unit: 'ug/kg/min' } } }] }));
    expect(lowOnly.rate).toMatchObject({ value: 0.375, from: '0.375 mcg/kg/min (bottom of the ordered range)' });
  });

  describe('several doseAndRate entries', () => {
    it('prefers the ordered entry over a calculated pump rate', () => {
      const value = evaluate(
        dobutamine([
          { type: CALCULATED, rateQuantity: quantity(9, 'mL/h') },
          { type: ORDERED, rateQuantity: quantity(200, 'ug/min') },
        ]),
      );
      expect(value.rate).toMatchObject({ value: 4, from: '200 mcg/min' });
    });

    it('prefers a weight-based entry when none is typed', () => {
      const value = evaluate(dobutamine([{ rateQuantity: quantity(9, 'mL/h') }, { rateQuantity: quantity(4, 'ug/kg/min') }]));
      expect(value.rate).toMatchObject({ value: 4, from: '4 mcg/kg/min' });
    });

    it('falls back to an entry it can convert', () => {
      const value = evaluate(dobutamine([{ type: ORDERED, rateQuantity: quantity(20, '{drop}/min') }, { rateQuantity: quantity(7.5, 'mL/h') }]));
      expect(value).toMatchObject({ rateStatus: 'ok', rate: { value: 4 } });
    });

    it('reports why the preferred entry failed when none converts', () => {
      const entries: DoseAndRate[] = [{ rateQuantity: quantity(7.5, 'mL/h') }, { type: ORDERED, rateQuantity: quantity(200, 'ug/min') }];
      const subject = medicationOrder({ code: '3616', doseAndRate: entries });
      expect(evaluate(subject, { weights: [] }).rateStatus).toBe('no-weight');
      const reversed = medicationOrder({ code: '3616', doseAndRate: [...entries].reverse() });
      expect(evaluate(reversed, { weights: [] }).rateStatus).toBe('no-weight');
      expect(evaluate(subject).rateStatus).toBe('ok');
    });
  });
});

describe('order: loading dose in ug/kg', () => {
  const milrinone = (doseQuantity: ReturnType<typeof quantity>) =>
    medicationOrder({ code: '1791840', doseAndRate: [{ doseQuantity }, { rateQuantity: quantity(0.5, 'ug/kg/min') }] });

  it('reads ug/kg as is', () => {
    const value = evaluate(milrinone(quantity(50, 'ug/kg')), { weights: [weight(70)] });
    expect(value).toMatchObject({ loadingDoseStatus: 'ok', loadingDose: { value: 50, unit: 'ug/kg', display: '50 mcg/kg' } });
    expect(value.rate?.value).toBe(0.5);
  });

  it('divides a mass dose by the weight', () => {
    const value = evaluate(milrinone(quantity(3.5, 'mg')), { weights: [weight(70)] });
    expect(value.loadingDose).toMatchObject({ value: 50, display: '50 mcg/kg (3.5 mg, 70 kg)' });
  });

  it('turns a volume into a dose with the concentration', () => {
    expect(evaluate(milrinone(quantity(17.5, 'mL')), { weights: [weight(70)] }).loadingDose?.value).toBe(50);
  });

  it('does not read the amount infused beside a rate (a 20 mg bag) as a bolus, but does read a per-kg dose there', () => {
    const bag = medicationOrder({ code: '1791840', doseAndRate: [{ doseQuantity: quantity(20, 'mg'), rateQuantity: quantity(0.5, 'ug/kg/min') }] });
    expect(evaluate(bag, { weights: [weight(80)] })).toMatchObject({ loadingDose: null, loadingDoseStatus: 'no-dose', rate: { value: 0.5 } });
    const perKg = medicationOrder({ code: '1791840', doseAndRate: [{ doseQuantity: quantity(50, 'ug/kg'), rateQuantity: quantity(0.5, 'ug/kg/min') }] });
    expect(evaluate(perKg, { weights: [weight(80)] }).loadingDose?.value).toBe(50);
  });

  it('says why there is none', () => {
    expect(evaluate(milrinone(quantity(3.5, 'mg')), { weights: [] }).loadingDoseStatus).toBe('no-weight');
    expect(evaluate(medicationOrder({ code: '52769' })).loadingDoseStatus).toBe('no-dose');
    expect(evaluate(medicationOrder({ code: '52769', doseAndRate: [{ doseQuantity: quantity(5, 'mL') }] })).loadingDoseStatus).toBe(
      'no-concentration',
    );
  });
});

describe('order: duration, age, weight, same-drug orders', () => {
  const timed = (timing: Dosage['timing']) => evaluate(medicationOrder({ code: '52769', timing }));

  it.each([
    [{ repeat: { boundsDuration: { value: 48, unit: 'h', system: UCUM, code: 'h' } } }, 48],
    [{ repeat: { boundsDuration: { value: 2, unit: 'days', system: UCUM, code: 'd' } } }, 48],
    [{ repeat: { boundsDuration: { value: 90, unit: 'min' } } }, 1.5],
    [{ repeat: { boundsPeriod: { start: '2026-11-20T08:00:00Z', end: '2026-11-23T08:00:00Z' } } }, 72],
    [{ repeat: { boundsPeriod: { start: '2026-11-20T08:00:00Z' } } }, null],
    [undefined, null],
  ])('durationHours from %j = %s', (timing, expected) => {
    expect(timed(timing).durationHours).toBe(expected);
  });

  it('bolus as ordered, whether or not a weight puts it per kg', () => {
    expect(evaluate(dobutamine([{ doseQuantity: quantity(250, 'mg') }]), { weights: [] }).bolus).toBe('250 mg');
    expect(evaluate(dobutamine([{ rateQuantity: quantity(5, 'ug/kg/min') }])).bolus).toBeNull();
  });

  it('runningHours from authoredOn when nothing was given, null without it', () => {
    expect(evaluate(medicationOrder({ code: '52769', authoredOn: ago(30) })).runningHours).toBe(30);
    expect(evaluate(medicationOrder({ code: '52769' })).runningHours).toBeNull();
    expect(evaluate(medicationOrder({ code: '52769', authoredOn: 'yesterday' })).runningHours).toBeNull();
  });

  it('runningHours from the first administration when one is recorded, in days and hours for display', () => {
    const subject = medicationOrder({ code: '52769', id: 'mil-1', origin: 'active', authoredOn: ago(10) });
    const given: MedicationAdministration = {
      resourceType: 'MedicationAdministration',
      status: 'in-progress',
      subject: { reference: 'Patient/p1' },
      request: { reference: 'MedicationRequest/mil-1' },
      medicationCodeableConcept: { coding: [{ system: RXNORM, code: '52769' }] },
      effectivePeriod: { start: ago(74) },
    };
    const value = evaluate(subject, { administrations: [given] });
    expect(value.runningHours).toBe(74);
    expect(value.durationText).toMatch(/^running 3 days 2 h \(since \d{4}-\d\d-\d\d\)$/);
    expect(timed({ repeat: { boundsDuration: { value: 72, unit: 'h', system: UCUM, code: 'h' } } }).durationText).toBe('ordered for 3 days');
  });

  it.each([
    [{ repeat: { duration: 6, durationUnit: 'h' as const, frequency: 1, period: 1, periodUnit: 'wk' as const } }, true],
    [{ repeat: { boundsDuration: { value: 72, unit: 'h', system: UCUM, code: 'h' } } }, false],
    [{ repeat: { frequency: 1, period: 1, periodUnit: 'h' as const } }, false],
  ])('intermittent regimen from %j = %s', (timing, expected) => {
    expect(timed(timing).intermittent).toBe(expected);
  });

  it('lists other active orders of the same inotrope', () => {
    const draft = medicationOrder({ code: '1791840', id: 'draft-1' });
    const running = medicationOrder({ code: '52769', origin: 'active', id: 'running-1' });
    const other = medicationOrder({ code: '3616', origin: 'active', id: 'dobu-1' });
    const value = evaluate(draft, { others: [running, other] });
    expect(value).toMatchObject({ reference: 'MedicationRequest/draft-1', origin: 'draft', display: 'milrinone (draft order)' });
    expect(value.activeSameDrug).toEqual([
      {
        reference: 'MedicationRequest/running-1',
        drug: 'milrinone',
        name: 'milrinone',
        origin: 'active',
        identifiedBy: 'code',
        text: 'milrinone',
        display: 'milrinone (active order)',
        home: false,
      },
    ]);
    expect(evaluate(running, { others: [draft] }).activeSameDrug).toEqual([]);
  });

  it('is null without a subject order, and order-scoped', () => {
    expect(order.compute({}, context(patientData()))).toBeNull();
    expect(order.scope).toBe('order');
  });

  it('needs the medication orders, their administrations (when the infusion started) and the weight observations', () => {
    expect(order.requirements(order.params.parse(undefined), knowledge()).map((r) => r.key)).toEqual(['medications', 'administrations', 'obs-body-weight']);
    expect(order.refs({}, knowledge().settings)).toEqual([
      { kind: 'valueSet', name: 'dobutamine' },
      { kind: 'valueSet', name: 'milrinone' },
      { kind: 'valueSet', name: 'body-weight' },
    ]);
  });
});

describe('perBodyMass', () => {
  it('splits the body-weight term out of a unit', () => {
    expect(perBodyMass('ug/kg/min')).toEqual({ bodyMass: 'kg', rest: 'ug/min' });
    expect(perBodyMass('mg/kg/d')).toEqual({ bodyMass: 'kg', rest: 'mg/d' });
    expect(perBodyMass('ug/kg')).toEqual({ bodyMass: 'kg', rest: 'ug' });
    expect(perBodyMass('/min')).toBeNull();
    expect(perBodyMass('{drop}/min')).toBeNull();
    expect(perBodyMass('(ug/kg)/min')).toBeNull();
  });
});
