import { noParams, type NoParams } from './params.js';
import { ADMINISTRATIONS_REQUIREMENT, MEDICATIONS_REQUIREMENT, mergeRequirements, observationRequirement } from './requirements.js';
import type { FactContext, FactDefinition } from './types.js';
import type { MedicationOrder } from '../shared/patient-data.js';
import { identifyDrug, referenceOf, summarize, type OrderSummary } from './medications.js';
import { missingText, readLatest, type ObservedValue } from './observations.js';
import { concentrationOf, doseCheckText, durationHours, isIntermittent, normaliseDose, orderedDose, orderedRate, normaliseRate, type DoseStatus, type NormalisedDose } from './rate.js';
import { clean } from './units.js';
import { formatDate, formatHours } from './time.js';
import { infusionStart } from './during-therapy.js';
import { observedValueShape } from './observations.js';
import { orderSummaryShape } from './medications.js';
import { DOSE_STATUSES } from './rate.js';
import { boolean, inotropeNames, list, number, object, oneOf, text } from './value-shape.js';

/** The subject order of an order-scoped rule, with its dose normalised against the latest weight. */
export interface OrderValue extends OrderSummary {
  rate: NormalisedDose | null;
  rateStatus: DoseStatus;
  loadingDose: NormalisedDose | null;
  loadingDoseStatus: DoseStatus;
  /** The rate check in words: the rate checked, or why it could not be ("no infusion rate on the order"). */
  rateCheck: string;
  /** The loading-dose check in words: the dose checked, "none ordered", or why an ordered one could not be checked. */
  loadingDoseCheck: string;
  /** What a card says for a field that is null (src/cards/template.ts): a loading dose never ordered is "none ordered", not "unknown". */
  absent: { rate: string; loadingDose: string; weight: string };
  /** The rate as ordered (`12.6 mL/h`) and whether the order states one in mcg/kg/min; null when it states no rate. */
  rateOrdered: { text: string; standardUnit: boolean } | null;
  /** The bolus as ordered (`250 mg`), null when the order has none. */
  bolus: string | null;
  weight: ObservedValue | null;
  /** The drug concentration in ug/mL, when the order's product states it. */
  concentration: number | null;
  /** The body weight as the dose checks see it: `80 kg (2026-11-21)`, or why there is none (none recent, none at all, unusable). */
  weightCheck: string;
  durationHours: number | null;
  /** Hours since the infusion started: its first administration when one is recorded, else the order's authoredOn. */
  runningHours: number | null;
  /** How long an active order has run ("running 3 days 2 h (since 2026-11-18)") or a draft is ordered for ("ordered for 3 days"). */
  durationText: string | null;
  /** A repeating regimen (sessions every day, week or month), not one continuous infusion. */
  intermittent: boolean;
  activeSameDrug: OrderSummary[];
}

const doseShape = object({ value: number, unit: oneOf('normalised dose units', ['ug/kg/min', 'ug/kg']), display: text, from: text, orderedUnit: text });
const doseStatus = oneOf('dose statuses', DOSE_STATUSES);

export const order = {
  params: noParams,
  scope: 'order',
  refs: (_p, settings) => [
    ...settings.inotropes.map((name) => ({ kind: 'valueSet' as const, name })),
    { kind: 'valueSet', name: settings.weight.valueSet },
  ],
  requirements: (_p, knowledge) =>
    mergeRequirements([MEDICATIONS_REQUIREMENT, ADMINISTRATIONS_REQUIREMENT], observationRequirement(knowledge.settings.weight.valueSet, knowledge)),
  settings: ['inotropes', 'weight'],
  value: orderSummaryShape(inotropeNames, {
    rate: doseShape,
    rateStatus: doseStatus,
    loadingDose: doseShape,
    loadingDoseStatus: doseStatus,
    rateCheck: text,
    loadingDoseCheck: text,
    absent: object({ rate: text, loadingDose: text, weight: text }),
    rateOrdered: object({ text, standardUnit: boolean }),
    bolus: text,
    weight: observedValueShape,
    concentration: number,
    weightCheck: text,
    durationHours: number,
    runningHours: number,
    durationText: text,
    intermittent: boolean,
    activeSameDrug: list(orderSummaryShape(inotropeNames)),
  }),
  observes: (_p, knowledge) => [knowledge.settings.weight],
  compute: (_p, ctx): OrderValue | null => {
    const subject = ctx.subject;
    if (!subject) return null;
    const { knowledge } = ctx;
    const identity = identifyDrug(subject, knowledge, ctx.memo);
    const reading = readLatest(ctx, knowledge.settings.weight.valueSet, { maxAge: knowledge.settings.weight.maxAge, unit: 'kg' });
    const weight = reading.value;
    const weightKg = typeof weight?.value === 'number' && weight.value > 0 ? weight.value : null;
    const valueSet = identity.valueSet === null ? undefined : knowledge.valueSets.get(identity.valueSet);
    const concentration = concentrationOf(subject, valueSet);
    const rate = normaliseRate(subject, weightKg, concentration);
    const loadingDose = normaliseDose(subject, weightKg, concentration);
    const ordered = durationHours(subject.request);
    const start = infusionStart(subject, ctx);
    const runningHours = start === null ? null : clean((ctx.now.getTime() - start) / 3_600_000);
    const self = referenceOf(subject);
    const activeSameDrug = ctx.data.medicationOrders
      .filter((o) => o !== subject && o.origin === 'active' && (self === null || referenceOf(o) !== self))
      .filter((o) => identity.valueSet !== null && identifyDrug(o, knowledge, ctx.memo).valueSet === identity.valueSet)
      .map((o) => summarize(o, knowledge, ctx.memo));
    const weightCheck = weightKg !== null && weight ? weight.display : missingWeight(ctx);
    const rateCheck = doseCheckText('rate', rate);
    const loadingDoseCheck = doseCheckText('dose', loadingDose);
    return {
      ...summarize(subject, knowledge, ctx.memo),
      rate: rate.value,
      rateStatus: rate.status,
      loadingDose: loadingDose.value,
      loadingDoseStatus: loadingDose.status,
      rateCheck,
      loadingDoseCheck,
      absent: { rate: rateCheck, loadingDose: loadingDoseCheck, weight: weightCheck },
      rateOrdered: orderedRate(subject),
      bolus: orderedDose(subject.request),
      weight: weightKg === null ? null : weight,
      concentration,
      weightCheck,
      durationHours: ordered,
      runningHours,
      durationText: durationText(subject.origin, ordered, runningHours, start, ctx.timeZone),
      intermittent: isIntermittent(subject.request),
      activeSameDrug,
    };
  },
} satisfies FactDefinition<NoParams>;

function durationText(origin: MedicationOrder['origin'], ordered: number | null, runningHours: number | null, start: number | null, timeZone?: string): string | null {
  if (origin === 'active' && runningHours !== null && start !== null) {
    return `running ${formatHours(runningHours)} (since ${formatDate(start, timeZone)})`;
  }
  return ordered === null ? null : `ordered for ${formatHours(ordered)}`;
}

/** Why no weight can be used: the newest within the configured age could not be read, or the newest on record is older. */
function missingWeight(ctx: FactContext): string {
  const { valueSet, maxAge } = ctx.knowledge.settings.weight;
  return missingText(ctx, valueSet, { maxAge, unit: 'kg' });
}
