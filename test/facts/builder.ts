import type {
  AllergyIntolerance,
  Coding,
  Condition,
  Device,
  Dosage,
  Medication,
  MedicationAdministration,
  MedicationRequest,
  Observation,
  Patient,
  Procedure,
  Quantity,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { DataGap, MedicationOrder, ObservationValue, PatientData } from '../../src/shared/patient-data.js';
import type { AcceptedUnit, CodeEntry, FactContext, Knowledge, LookupTable, Settings, Threshold, ValueSet } from '../../src/facts/types.js';
import { hookModule } from '../../src/cds/hooks/registry.js';
import { CallMemo } from '../../src/facts/memo.js';

/**
 * Hand-built PatientData and Knowledge for fact tests. Codes and figures are from the sources in docs/references.md;
 * the knowledge mirrors the shape of rules/ without depending on its content.
 */

export const NOW = new Date('2026-11-21T12:00:00Z');
export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const UCUM = 'http://unitsofmeasure.org';
export const V3_ROUTE = 'http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration';

interface ValueSetSpec {
  title: string;
  codes: (Omit<CodeEntry, 'system'> & { system?: string })[];
  system: string;
  molarMass?: { value: number; unit: string };
  charge?: number;
  matchText?: string[];
  units?: AcceptedUnit[];
  sameTime?: ValueSet['sameTime'];
}

function valueSet(name: string, spec: ValueSetSpec): ValueSet {
  const codes = new Map<string, CodeEntry>();
  for (const c of spec.codes) {
    const entry = { ...c, system: c.system ?? spec.system };
    codes.set(`${entry.system}|${entry.code}`, entry);
  }
  return {
    name,
    title: spec.title,
    url: `urn:inotrope-cds:value-set:${name}`,
    codes,
    filters: [],
    molarMass: spec.molarMass,
    charge: spec.charge,
    matchText: spec.matchText,
    ...(spec.units && { units: spec.units }),
    ...(spec.sameTime && { sameTime: spec.sameTime }),
  };
}

const VALUE_SETS: Record<string, ValueSetSpec> = {
  potassium: { title: 'Potassium', system: LOINC, charge: 1, codes: [{ code: '2823-3' }, { code: '6298-4' }] },
  magnesium: {
    title: 'Magnesium',
    system: LOINC,
    molarMass: { value: 24.305, unit: 'g/mol' },
    charge: 2,
    codes: [{ code: '19123-9' }, { code: '2601-3' }],
  },
  'body-weight': { title: 'Body weight', system: LOINC, codes: [{ code: '29463-7' }] },
  temperature: { title: 'Body temperature', system: LOINC, codes: [{ code: '8310-5' }, { code: '8331-1' }] },
  'systolic-bp': { title: 'Systolic blood pressure', system: LOINC, codes: [{ code: '8480-6' }] },
  'heart-rate': { title: 'Heart rate', system: LOINC, codes: [{ code: '8867-4' }] },
  platelets: { title: 'Platelets', system: LOINC, codes: [{ code: '777-3' }, { code: '26515-7' }] },
  egfr: { title: 'eGFR', system: LOINC, codes: [{ code: '33914-3' }, { code: '62238-1' }] },
  // As rules/ declares them: accepted units (mL/min read as per 1.73 m², the codes' definition) and the same-instant choice.
  'egfr-declared': {
    title: 'eGFR',
    system: LOINC,
    codes: [{ code: '33914-3' }, { code: '98979-8' }, { code: '88293-6' }, { code: '88294-4' }],
    units: [{ unit: 'mL/min/{1.73_m2}' }, { unit: 'mL/min', readAs: 'mL/min/{1.73_m2}' }],
    sameTime: { prefer: [`${LOINC}|98979-8`], choose: 'lowest' },
  },
  creatinine: { title: 'Creatinine', system: LOINC, molarMass: { value: 113.12, unit: 'g/mol' }, codes: [{ code: '2160-0' }, { code: '14682-9' }], units: [{ unit: 'mg/dL' }, { unit: 'umol/L' }], sameTime: { prefer: [], choose: 'highest' } },
  'creatinine-clearance': { title: 'Creatinine clearance', system: LOINC, codes: [{ code: '35591-7' }], units: [{ unit: 'mL/min', readAs: 'mL/min/{1.73_m2}' }] },
  'esrd-or-dialysis': { title: 'End-stage renal disease or dialysis', system: SNOMED, codes: [{ code: '46177005', display: 'End-stage renal disease (disorder)' }] },
  lvef: { title: 'LVEF', system: LOINC, codes: [{ code: '10230-1' }, { code: '18043-0' }], units: [{ unit: '%' }], sameTime: { prefer: [], choose: 'highest' } },
  'nyha-class-iv': { title: 'NYHA class IV', system: SNOMED, codes: [{ code: '422293003' }] },
  'nyha-assessment': { title: 'NYHA functional capacity', system: LOINC, codes: [{ code: '88020-3' }] },
  'palliative-care': { title: 'Palliative care', system: SNOMED, codes: [{ code: '103735009', display: 'Palliative care (regime/therapy)' }] },
  'stress-echo': {
    title: 'Stress echocardiography',
    system: LOINC,
    codes: [{ code: '18107-3', display: 'Cardiac echo study Procedure stress method' }],
    matchText: ['stress echo', 'stress echocardiogram'],
  },
  'central-venous-catheter': { title: 'Central venous catheter', system: SNOMED, codes: [{ code: '52124006', display: 'Central venous catheter' }] },
  'metabolic-panel-orders': { title: 'Metabolic panel order', system: LOINC, codes: [{ code: '24320-4', display: 'Basic metabolic panel' }] },
  milrinone: {
    title: 'milrinone',
    system: RXNORM,
    matchText: ['milrinone', 'primacor'],
    codes: [
      { code: '52769', display: 'milrinone' },
      { code: '1791840', display: '100 ML milrinone lactate 0.2 MG/ML Injection', concentration: { value: 0.2, unit: 'mg/mL' } },
      { code: '1791854', display: '10 ML milrinone lactate 1 MG/ML Injection' },
    ],
  },
  dobutamine: {
    title: 'dobutamine',
    system: RXNORM,
    codes: [
      { code: '3616', display: 'dobutamine' },
      { code: '309986', display: '250 ML dobutamine 2 MG/ML Injection', concentration: { value: 2, unit: 'mg/mL' } },
    ],
  },
  furosemide: {
    title: 'furosemide',
    system: RXNORM,
    codes: [{ code: '4603' }, { code: '1719290', display: '2 ML furosemide 10 MG/ML Injection' }],
  },
  'sodium-bicarbonate': { title: 'sodium bicarbonate', system: RXNORM, codes: [{ code: '36676' }] },
  heparin: { title: 'heparin', system: RXNORM, codes: [{ code: '5224' }] },
  'iv-route': {
    title: 'Intravenous routes',
    system: SNOMED,
    codes: [{ code: '47625008' }, { system: V3_ROUTE, code: 'IV' }, { system: V3_ROUTE, code: 'IVCC' }],
  },
  'iv-products': {
    title: 'IV products',
    system: RXNORM,
    codes: [{ code: '1719290' }, { code: '1791840' }, { code: '309986' }],
  },
  'home-order-categories': {
    title: 'Home order categories',
    system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category',
    codes: [{ code: 'community' }, { code: 'discharge' }],
  },
  'hypertrophic-obstruction': {
    title: 'Hypertrophic subaortic stenosis',
    system: SNOMED,
    codes: [{ code: '360465008', display: 'Idiopathic hypertrophic subaortic stenosis (disorder)' }, { code: '45227007' }],
  },
  'inotrope-allergy': {
    title: 'Inotrope hypersensitivity',
    system: RXNORM,
    codes: [{ code: '52769' }, { code: '3616' }, { system: SNOMED, code: '373441005' }],
  },
  'sulfite-allergy': { title: 'Sulfite allergy', system: SNOMED, codes: [{ code: '767406000' }] },
  telemetry: { title: 'Continuous ECG monitoring', system: SNOMED, codes: [{ code: '46825001' }, { code: '23852006' }] },
};

const THRESHOLDS: Threshold[] = [
  { name: 'potassium-low', value: 3.5, unit: 'mmol/L', maxAge: '72h' },
  { name: 'magnesium-low', value: 1.7, unit: 'mg/dL', maxAge: '72h' },
  { name: 'fever', value: 38.3, unit: 'Cel', maxAge: '24h' },
  { name: 'platelets-low', value: 150, unit: '10*3/uL', maxAge: '7d' },
];

const TABLES: LookupTable[] = [
  {
    name: 'milrinone-renal-rate',
    input: { unit: 'mL/min/{1.73_m2}' },
    output: { unit: 'ug/kg/min' },
    method: 'floor',
    rows: [
      [5, 0.2],
      [10, 0.23],
      [20, 0.28],
      [30, 0.33],
      [40, 0.38],
      [50, 0.43],
    ],
  },
];

export const SETTINGS: Settings = {
  inotropes: ['dobutamine', 'milrinone'],
  ivRoute: 'iv-route',
  ivProducts: 'iv-products',
  homeOrderCategories: 'home-order-categories',
  weight: { valueSet: 'body-weight', maxAge: '7d' },
  source: { label: 'inotrope-cds' },
  adultAge: '18y',
  staleOrderAge: '7d',
  overrideReasons: [],
  lineCompatibility: [],
};

export function knowledge(overrides: { settings?: Partial<Settings>; tables?: LookupTable[] } = {}): Knowledge {
  return {
    valueSets: new Map(Object.entries(VALUE_SETS).map(([name, spec]) => [name, valueSet(name, spec)])),
    thresholds: new Map(THRESHOLDS.map((t) => [t.name, t])),
    tables: new Map((overrides.tables ?? TABLES).map((t) => [t.name, t])),
    settings: { ...SETTINGS, ...overrides.settings },
  };
}

/** ISO time `hours` before NOW. */
export function ago(hours: number): string {
  return new Date(NOW.getTime() - hours * 3_600_000).toISOString();
}

let nextId = 0;
const id = (prefix: string): string => `${prefix}-${++nextId}`;

export function quantity(value: number, unit: string, code: string | null = unit): Quantity {
  return code === null ? { value, unit } : { value, unit, system: UCUM, code };
}

export interface ObservationSpec {
  code: string;
  system?: string;
  value?: number;
  unit?: string;
  /** UCUM code; null to send only `unit` text, as some EHRs do. Defaults to `unit`. */
  ucum?: string | null;
  hoursAgo: number;
  status?: Observation['status'];
  valueCoding?: Coding;
  components?: { code: string; value: number; unit: string }[];
}

export function observation(spec: ObservationSpec): Observation {
  const obs: Observation = {
    resourceType: 'Observation',
    id: id('obs'),
    status: spec.status ?? 'final',
    code: { coding: [{ system: spec.system ?? LOINC, code: spec.code }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: ago(spec.hoursAgo),
  };
  if (spec.value !== undefined && spec.unit !== undefined) {
    obs.valueQuantity = quantity(spec.value, spec.unit, spec.ucum === undefined ? spec.unit : spec.ucum);
  }
  if (spec.valueCoding) obs.valueCodeableConcept = { coding: [spec.valueCoding] };
  if (spec.components) {
    obs.component = spec.components.map((c) => ({
      code: { coding: [{ system: LOINC, code: c.code }] },
      valueQuantity: quantity(c.value, c.unit),
    }));
  }
  return obs;
}

/** Indexes observations by coding, components as their own entries, newest first (as the data layer does). */
export function indexObservations(observations: readonly Observation[]): Map<string, ObservationValue[]> {
  const index = new Map<string, ObservationValue[]>();
  const add = (key: string, value: ObservationValue): void => {
    index.set(key, [...(index.get(key) ?? []), value]);
  };
  for (const o of observations) {
    const effective = o.effectiveDateTime ?? o.issued ?? '';
    for (const c of o.code?.coding ?? []) {
      const key = `${c.system}|${c.code}`;
      add(key, { observation: o, code: key, valueQuantity: o.valueQuantity, valueCodeableConcept: o.valueCodeableConcept, effective, time: Date.parse(effective), fromComponent: false });
    }
    for (const component of o.component ?? []) {
      for (const c of component.code?.coding ?? []) {
        const key = `${c.system}|${c.code}`;
        add(key, { observation: o, code: key, valueQuantity: component.valueQuantity, effective, time: Date.parse(effective), fromComponent: true });
      }
    }
  }
  for (const values of index.values()) values.sort((a, b) => Date.parse(b.effective) - Date.parse(a.effective));
  return index;
}

export interface OrderSpec {
  code?: string;
  system?: string;
  display?: string;
  origin?: MedicationOrder['origin'];
  id?: string | null;
  /** SNOMED route code, or a full coding; null for no route. */
  route?: string | Coding | null;
  doseAndRate?: NonNullable<Dosage['doseAndRate']>;
  timing?: Dosage['timing'];
  authoredOn?: string;
  /** A contained Medication (referenced as `#med`) instead of medicationCodeableConcept. */
  medication?: Medication;
}

export function medicationOrder(spec: OrderSpec = {}): MedicationOrder {
  const origin = spec.origin ?? 'draft';
  const route = spec.route === undefined ? '47625008' : spec.route;
  const dosage: Dosage = {};
  if (route !== null) dosage.route = { coding: [typeof route === 'string' ? { system: SNOMED, code: route } : route] };
  if (spec.doseAndRate) dosage.doseAndRate = spec.doseAndRate;
  if (spec.timing) dosage.timing = spec.timing;
  const request: MedicationRequest = {
    resourceType: 'MedicationRequest',
    status: origin === 'draft' ? 'draft' : 'active',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    dosageInstruction: [dosage],
  };
  const requestId = spec.id === undefined ? id('mr') : spec.id;
  if (requestId !== null) request.id = requestId;
  if (spec.authoredOn) request.authoredOn = spec.authoredOn;
  let codings: Coding[];
  if (spec.medication) {
    request.contained = [{ ...spec.medication, id: 'med' }];
    request.medicationReference = { reference: '#med' };
    codings = [
      ...(spec.medication.code?.coding ?? []),
      ...(spec.medication.ingredient ?? []).flatMap((i) => i.itemCodeableConcept?.coding ?? []),
    ];
  } else {
    const coding: Coding = { system: spec.system ?? RXNORM, code: spec.code ?? '52769', display: spec.display };
    request.medicationCodeableConcept = { coding: [coding] };
    codings = [coding];
  }
  return { request, medication: spec.medication, codings, origin, selected: origin === 'draft' };
}

export interface DataSpec {
  hook?: PatientData['hook'];
  patient?: Patient;
  observations?: Observation[];
  orders?: MedicationOrder[];
  conditions?: Condition[];
  allergies?: AllergyIntolerance[];
  serviceRequests?: ServiceRequest[];
  devices?: Device[];
  procedures?: Procedure[];
  administrations?: MedicationAdministration[];
  otherDraftOrders?: Resource[];
  gaps?: DataGap[];
}

/** A hook's moment and subjects come from its module, as the data layer sets them. */
export function patientData(spec: DataSpec = {}): PatientData {
  const hook = spec.hook ?? 'order-sign';
  const { moment, subjects } = hookModule(hook);
  return {
    hook,
    moment,
    subjects,
    patientId: 'p1',
    patient: spec.patient,
    otherDraftOrders: spec.otherDraftOrders ?? [],
    medicationOrders: spec.orders ?? [],
    observationsByCode: indexObservations(spec.observations ?? []),
    conditions: spec.conditions ?? [],
    allergies: spec.allergies ?? [],
    serviceRequests: spec.serviceRequests ?? [],
    devices: spec.devices ?? [],
    procedures: spec.procedures ?? [],
    administrations: spec.administrations ?? [],
    gaps: spec.gaps ?? [],
  };
}

export function context(data: PatientData, options: { subject?: MedicationOrder; knowledge?: Knowledge; now?: Date } = {}): FactContext {
  return { data, now: options.now ?? NOW, knowledge: options.knowledge ?? knowledge(), subject: options.subject, memo: new CallMemo() };
}

export function condition(code: string, options: { clinical?: string | null; verification?: string; system?: string; onset?: string } = {}): Condition {
  const c: Condition = {
    resourceType: 'Condition',
    id: id('cond'),
    subject: { reference: 'Patient/p1' },
    code: { coding: [{ system: options.system ?? SNOMED, code }] },
  };
  const clinical = options.clinical === undefined ? 'active' : options.clinical;
  if (clinical !== null) {
    c.clinicalStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinical }] };
  }
  if (options.verification) {
    c.verificationStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: options.verification }] };
  }
  if (options.onset) c.onsetDateTime = options.onset;
  return c;
}

export function allergy(
  code: string | null,
  options: { clinical?: string; verification?: string; system?: string; substance?: Coding } = {},
): AllergyIntolerance {
  const a: AllergyIntolerance = { resourceType: 'AllergyIntolerance', id: id('allergy'), patient: { reference: 'Patient/p1' } };
  if (code !== null) a.code = { coding: [{ system: options.system ?? RXNORM, code }] };
  if (options.clinical) {
    a.clinicalStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: options.clinical }] };
  }
  if (options.verification) {
    a.verificationStatus = {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: options.verification }],
    };
  }
  if (options.substance) a.reaction = [{ substance: { coding: [options.substance] }, manifestation: [{ text: 'wheeze' }] }];
  return a;
}

export function serviceRequest(code: string, status: ServiceRequest['status'] = 'active'): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    id: id('sr'),
    status,
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    code: { coding: [{ system: SNOMED, code }] },
  };
}
