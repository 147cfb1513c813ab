import { noParams, type NoParams } from './params.js';
import { MEDICATIONS_REQUIREMENT, mergeRequirements, observationRequirement } from './requirements.js';
import type { FactDefinition } from './types.js';
import { identifyDrug, referenceOf, summarize, type OrderSummary } from './medications.js';
import { latestValue, type ObservedValue } from './observations.js';
import { concentrationOf, durationHours, normaliseDose, normaliseRate, type DoseStatus, type NormalisedDose } from './rate.js';
import { clean } from './units.js';
import { timeOf } from './time.js';

/** The subject order of an order-scoped rule, with its dose normalised against the latest weight. */
export interface OrderValue extends OrderSummary {
  rate: NormalisedDose | null;
  rateStatus: DoseStatus;
  loadingDose: NormalisedDose | null;
  loadingDoseStatus: DoseStatus;
  weight: ObservedValue | null;
  durationHours: number | null;
  ageHours: number | null;
  activeSameDrug: OrderSummary[];
}

export const order = {
  params: noParams,
  scope: 'order',
  refs: (_p, settings) => [
    ...settings.inotropes.map((name) => ({ kind: 'valueSet' as const, name })),
    { kind: 'valueSet', name: settings.weight.valueSet },
  ],
  requirements: (_p, knowledge) =>
    mergeRequirements([MEDICATIONS_REQUIREMENT], observationRequirement(knowledge.settings.weight.valueSet, knowledge)),
  compute: (_p, ctx): OrderValue | null => {
    const subject = ctx.subject;
    if (!subject) return null;
    const { knowledge } = ctx;
    const identity = identifyDrug(subject, knowledge, ctx.memo);
    const weight = latestValue(ctx, knowledge.settings.weight.valueSet, { maxAge: knowledge.settings.weight.maxAge, unit: 'kg' });
    const weightKg = typeof weight?.value === 'number' && weight.value > 0 ? weight.value : null;
    const valueSet = identity.valueSet === null ? undefined : knowledge.valueSets.get(identity.valueSet);
    const concentration = concentrationOf(subject, valueSet);
    const rate = normaliseRate(subject, weightKg, concentration);
    const loadingDose = normaliseDose(subject, weightKg, concentration);
    const authored = timeOf(subject.request?.authoredOn);
    const self = referenceOf(subject);
    const activeSameDrug = ctx.data.medicationOrders
      .filter((o) => o !== subject && o.origin === 'active' && (self === null || referenceOf(o) !== self))
      .filter((o) => identity.valueSet !== null && identifyDrug(o, knowledge, ctx.memo).valueSet === identity.valueSet)
      .map((o) => summarize(o, knowledge, ctx.memo));
    return {
      ...summarize(subject, knowledge, ctx.memo),
      rate: rate.value,
      rateStatus: rate.status,
      loadingDose: loadingDose.value,
      loadingDoseStatus: loadingDose.status,
      weight: weightKg === null ? null : weight,
      durationHours: durationHours(subject.request),
      ageHours: authored === null ? null : clean((ctx.now.getTime() - authored) / 3_600_000),
      activeSameDrug,
    };
  },
} satisfies FactDefinition<NoParams>;
