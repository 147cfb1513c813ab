import { describe, expect, it } from 'vitest';
import { FACTS } from '../../src/facts/index.js';
import { coadministered, identifyDrug, inotropes, isIntravenous, ivMedications, unidentifiedOrders } from '../../src/facts/medications.js';
import { CallMemo } from '../../src/facts/memo.js';
import { context, knowledge, medicationOrder, patientData, quantity, RXNORM, SNOMED, V3_ROUTE } from './builder.js';

const ORAL = '26643006';

describe('inotropes', () => {
  it('marks an order for the patient\'s home (category community or discharge), not one given in a facility', () => {
    const withCategory = (id: string, code: string | null) => {
      const order = medicationOrder({ code: '1791840', origin: 'active', id });
      if (code) order.request.category = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code }] }];
      return order;
    };
    const orders = [withCategory('home', 'community'), withCategory('after-discharge', 'discharge'), withCategory('clinic', 'outpatient'), withCategory('ward', null)];
    const value = inotropes.compute({}, context(patientData({ orders })));
    expect(value.orders.map((o) => [o.reference, o.home])).toEqual([
      ['MedicationRequest/home', true],
      ['MedicationRequest/after-discharge', true],
      ['MedicationRequest/clinic', false],
      ['MedicationRequest/ward', false],
    ]);
  });

  it('finds inotrope orders by ingredient or product code, draft and active', () => {
    const orders = [
      medicationOrder({ code: '1791840', id: 'mil-draft' }),
      medicationOrder({ code: '3616', origin: 'active', id: 'dobu-active' }),
      medicationOrder({ code: '4603', id: 'furo' }),
    ];
    const value = inotropes.compute({}, context(patientData({ orders })));
    expect(value).toEqual({
      drugs: ['dobutamine', 'milrinone'],
      names: 'dobutamine and milrinone',
      display: 'dobutamine and milrinone',
      orders: [
        {
          reference: 'MedicationRequest/mil-draft',
          drug: 'milrinone',
          name: 'milrinone',
          origin: 'draft',
          identifiedBy: 'code',
          text: 'milrinone',
          display: 'milrinone (draft order)',
          home: false,
        },
        {
          reference: 'MedicationRequest/dobu-active',
          drug: 'dobutamine',
          name: 'dobutamine',
          origin: 'active',
          identifiedBy: 'code',
          text: 'dobutamine',
          display: 'dobutamine (active order)',
          home: false,
        },
      ],
      draft: [expect.objectContaining({ reference: 'MedicationRequest/mil-draft' })],
      active: [expect.objectContaining({ reference: 'MedicationRequest/dobu-active' })],
    });
  });

  it('is empty when there is no inotrope', () => {
    const value = inotropes.compute({}, context(patientData({ orders: [medicationOrder({ code: '4603' })] })));
    expect(value).toMatchObject({ drugs: [], names: '', orders: [], draft: [], active: [] });
  });

  it('follows settings: a drug is an inotrope only when its value set is listed', () => {
    const k = knowledge({ settings: { inotropes: ['milrinone'] } });
    const value = inotropes.compute({}, context(patientData({ orders: [medicationOrder({ code: '3616' })] }), { knowledge: k }));
    expect(value).toMatchObject({ drugs: [] });
  });

  it('identifies a drug from a contained Medication ingredient', () => {
    const order = medicationOrder({
      medication: {
        resourceType: 'Medication',
        code: { text: 'milrinone 20 mg in 100 mL' },
        ingredient: [{ itemCodeableConcept: { coding: [{ system: RXNORM, code: '52769' }] } }],
      },
    });
    expect(identifyDrug(order, knowledge(), new CallMemo())).toEqual({ drug: 'milrinone', name: 'milrinone', valueSet: 'milrinone', by: 'code' });
  });

  it('identifies a drug by the words of an order no code of which is in a set, as whole words, and only then', () => {
    const text = (words: string, spec: Parameters<typeof medicationOrder>[0] = {}) => {
      const order = medicationOrder({ code: 'LOCAL-1', system: 'urn:oid:2.16.840.1.113883.19.5.99', ...spec });
      order.request.medicationCodeableConcept!.text = words;
      return identifyDrug(order, knowledge(), new CallMemo());
    };
    expect(text('Milrinone lactate 200 mcg/mL in D5W')).toEqual({ drug: 'milrinone', name: 'milrinone', valueSet: 'milrinone', by: 'name' });
    expect(text('PRIMACOR 20 MG/100 ML')).toMatchObject({ valueSet: 'milrinone', by: 'name' });
    expect(text('Milrinonex 1 mg/mL')).toEqual({ drug: 'Milrinonex 1 mg/mL', name: 'Milrinonex 1 mg/mL', valueSet: null, by: null });
    // A code in a set wins over the words: a furosemide order that mentions milrinone is furosemide.
    expect(text('furosemide, not with milrinone', { code: '4603', system: RXNORM })).toMatchObject({ valueSet: 'furosemide', by: 'code' });
    // A local code's display names the drug too, and so does the reference's display when the Medication could not be read.
    expect(identifyDrug(medicationOrder({ code: 'MIL', system: 'urn:local', display: 'MILRINONE PREMIX' }), knowledge(), new CallMemo())).toMatchObject({ by: 'name' });
    const unread = medicationOrder();
    delete unread.request.medicationCodeableConcept;
    unread.request.medicationReference = { reference: 'Medication/gone', display: 'Milrinone 20 mg in 100 mL D5W' };
    expect(identifyDrug({ ...unread, codings: [] }, knowledge(), new CallMemo())).toMatchObject({ valueSet: 'milrinone', by: 'name' });
  });

  it('counts an order identified by name as an inotrope, and an order with no drug code and no known name as unidentified', () => {
    const named = medicationOrder({ code: 'X', system: 'urn:local', display: 'Milrinone in D5W', id: 'named' });
    const bare = { ...medicationOrder({ id: 'bare' }), codings: [] };
    delete bare.request.medicationCodeableConcept;
    const otherDrug = medicationOrder({ code: '11124', display: 'vancomycin', id: 'vanco' });
    const data = patientData({ orders: [named, bare, otherDrug] });
    expect(inotropes.compute({}, context(data)).orders).toMatchObject([{ reference: 'MedicationRequest/named', identifiedBy: 'name', text: 'Milrinone in D5W' }]);
    expect(unidentifiedOrders.compute({}, context(data))).toMatchObject([
      { reference: 'MedicationRequest/bare', identifiedBy: null, name: 'a medication order that names no drug' },
    ]);
  });

  it('reads the medication orders', () => {
    expect(FACTS.inotropes!.requirements({}, knowledge()).map((r) => r.template)).toEqual([
      'MedicationRequest?patient={{context.patientId}}&status=active',
    ]);
  });
});

describe('ivMedications', () => {
  it('lists IV orders that are not inotropes, by route or by IV product', () => {
    const orders = [
      medicationOrder({ code: '4603', id: 'furo-iv' }),
      medicationOrder({ code: '1719290', id: 'furo-product', route: null }),
      medicationOrder({ code: '5224', id: 'heparin-v3', route: { system: V3_ROUTE, code: 'IVCC' } }),
      medicationOrder({ code: '4603', id: 'furo-oral', route: ORAL }),
      medicationOrder({ code: '52769', id: 'milrinone' }),
    ];
    const value = ivMedications.compute({}, context(patientData({ orders })));
    expect(value.map((o) => [o.reference, o.drug])).toEqual([
      ['MedicationRequest/furo-iv', 'furosemide'],
      ['MedicationRequest/furo-product', 'furosemide'],
      ['MedicationRequest/heparin-v3', 'heparin'],
    ]);
  });

  it('names a drug outside every value set by its own coding display', () => {
    const orders = [medicationOrder({ code: '11124', display: 'vancomycin', origin: 'active' })];
    expect(ivMedications.compute({}, context(patientData({ orders })))).toEqual([
      {
        reference: expect.any(String),
        drug: 'vancomycin',
        name: 'vancomycin',
        origin: 'active',
        identifiedBy: null,
        text: 'vancomycin',
        display: 'vancomycin (active order)',
        home: false,
      },
    ]);
  });

  it('gives a draft without an id a null reference', () => {
    const orders = [medicationOrder({ code: '4603', id: null })];
    expect(ivMedications.compute({}, context(patientData({ orders })))[0]?.reference).toBeNull();
  });

  it('is not IV without an IV route or product', () => {
    expect(isIntravenous(medicationOrder({ code: '4603', route: null }), knowledge())).toBe(false);
    expect(isIntravenous(medicationOrder({ code: '4603', route: { system: SNOMED, code: ORAL } }), knowledge())).toBe(false);
  });

  it('lets an explicit route in a system the IV-route set uses win over an IV product code', () => {
    const SUBCUTANEOUS = '34206005';
    expect(isIntravenous(medicationOrder({ code: '1719290', route: null }), knowledge())).toBe(true);
    expect(isIntravenous(medicationOrder({ code: '1719290', route: { system: SNOMED, code: SUBCUTANEOUS } }), knowledge())).toBe(false);
    // A route coded in a local system says nothing the service can read: the product decides.
    expect(isIntravenous(medicationOrder({ code: '1719290', route: { system: 'urn:local-routes', code: 'SUBQ' } }), knowledge())).toBe(true);
  });
});

describe('coadministered', () => {
  const lines = knowledge({
    settings: {
      lineCompatibility: [
        { inotrope: 'milrinone', with: ['furosemide'], grade: 'incompatible', finding: 'a precipitate forms', source: 'EU-MIL' },
        { inotrope: 'milrinone', with: ['sodium-bicarbonate'], grade: 'diluent', finding: 'not to be diluted in it', source: 'EU-MIL' },
        { inotrope: 'dobutamine', with: ['heparin'], grade: 'variable', finding: 'depends on concentration', source: 'CHEO' },
      ],
    },
  });
  const incompatible = coadministered.params.parse({ grades: ['incompatible'] });

  it('pairs an inotrope with IV orders of the drugs graded against it, with the grade and finding', () => {
    const orders = [
      medicationOrder({ code: '1791840', id: 'mil', doseAndRate: [{ rateQuantity: quantity(0.5, 'ug/kg/min') }] }),
      medicationOrder({ code: '1719290', id: 'furo', origin: 'active' }),
      medicationOrder({ code: '4603', id: 'furo-oral', route: ORAL }),
      medicationOrder({ code: '5224', id: 'hep' }),
    ];
    const value = coadministered.compute(incompatible, context(patientData({ orders }), { knowledge: lines }));
    expect(value).toEqual({
      pairs: [
        {
          inotrope: 'milrinone',
          drug: 'furosemide',
          grade: 'incompatible',
          inotropeOrder: expect.objectContaining({ reference: 'MedicationRequest/mil', origin: 'draft' }),
          otherOrder: expect.objectContaining({ reference: 'MedicationRequest/furo', origin: 'active' }),
          finding: 'a precipitate forms',
          source: 'EU-MIL',
          display: 'milrinone + furosemide (active order)',
        },
      ],
      inotropes: 'milrinone',
      names: 'milrinone + furosemide (active order)',
      display: 'milrinone + furosemide (active order) — a precipitate forms',
    });
  });

  it('reports only the grades asked for', () => {
    const orders = [medicationOrder({ code: '1791840', id: 'mil' }), medicationOrder({ code: '36676', id: 'bicarb' }), medicationOrder({ code: '1719290', id: 'furo' })];
    const diluent = coadministered.compute(coadministered.params.parse({ grades: ['diluent'] }), context(patientData({ orders }), { knowledge: lines }));
    expect(diluent?.pairs.map((p) => [p.drug, p.grade])).toEqual([['sodium-bicarbonate', 'diluent']]);
    const both = coadministered.compute(coadministered.params.parse({ grades: ['incompatible', 'diluent'] }), context(patientData({ orders }), { knowledge: lines }));
    expect(both?.pairs.map((p) => p.drug)).toEqual(['furosemide', 'sodium-bicarbonate']);
  });

  it('is null when the inotrope is not ordered', () => {
    const orders = [medicationOrder({ code: '5224' }), medicationOrder({ code: '4603' })];
    expect(coadministered.compute(incompatible, context(patientData({ orders }), { knowledge: lines }))).toBeNull();
  });

  it('names every value set the grades read, and validates its params', () => {
    expect(coadministered.refs(incompatible, lines.settings).map((r) => r.name)).toEqual(
      expect.arrayContaining(['milrinone', 'furosemide', 'sodium-bicarbonate', 'dobutamine', 'heparin', 'iv-route', 'iv-products']),
    );
    expect(() => coadministered.params.parse({ grades: [] })).toThrow();
    expect(() => coadministered.params.parse({ grades: ['never'] })).toThrow();
  });

  it('leaves graded orders out of ivMedications with exceptGraded, and only those', () => {
    const orders = [
      medicationOrder({ code: '52769', id: 'mil' }),
      medicationOrder({ code: '1719290', id: 'furo' }),
      medicationOrder({ code: '5224', id: 'hep' }),
    ];
    const all = ivMedications.compute({}, context(patientData({ orders }), { knowledge: lines }));
    const ungraded = ivMedications.compute({ exceptGraded: true }, context(patientData({ orders }), { knowledge: lines }));
    expect(all.map((o) => o.drug)).toEqual(['furosemide', 'heparin']);
    // heparin is graded against dobutamine only, which this patient does not have
    expect(ungraded.map((o) => o.drug)).toEqual(['heparin']);
  });
});
