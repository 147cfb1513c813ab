import { z } from 'zod';
import { HOOKS } from '../../shared/hooks.js';
import { isTimeZone, nameSchema } from '../../shared/syntax.js';
import { durationSchema } from '../../facts/params.js';

/**
 * Scenario tests (rules/tests/*.json) and the synthetic charts they use (rules/tests/patients/*.json):
 * a chart plus additions → the rules expected to fire and not to fire (docs/rule-format.md "Scenarios").
 */

const text = z.string().min(1, 'must not be empty');
const fhirResource = z.looseObject({ resourceType: text }).describe('A FHIR resource, used as is.');
const reference = z.string().regex(/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/, 'must be "ResourceType/id"');
const isoDateTime = z.iso.datetime({ offset: true, error: 'must be an ISO date-time such as "2026-11-21T12:00:00Z"' });
const ago = durationSchema.describe('How long before the scenario\'s "now", e.g. "12h".');

const quantity = z.strictObject({ value: z.number(), unit: text });

const observation = z
  .strictObject({
    code: text,
    system: text.optional().describe('Default LOINC.'),
    value: z.number().optional(),
    unit: text.optional(),
    ago,
    status: text.optional().describe('Default "final".'),
    components: z.array(z.strictObject({ code: text, system: text.optional(), value: z.number(), unit: text })).optional(),
  })
  .describe('An observation shorthand.');
const clinical = z
  .strictObject({
    code: text,
    system: text.optional().describe('Default SNOMED CT.'),
    clinicalStatus: text.optional().describe('Default "active".'),
    verificationStatus: text.optional(),
  })
  .describe('A condition or allergy shorthand.');
const medication = z
  .strictObject({
    code: text,
    system: text.optional().describe('Default RxNorm.'),
    id: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/).optional(),
    status: text.optional().describe('Default "active" ("draft" in draftOrders).'),
    route: text.optional().describe('SNOMED CT route code; default 47625008 (intravenous).'),
    rate: quantity.optional(),
    dose: quantity.optional(),
    authoredAgo: durationSchema.optional(),
    durationHours: z.number().positive().optional(),
  })
  .describe('A medication order shorthand.');
const administration = z
  .strictObject({
    code: text.describe('The drug given (RxNorm unless system says otherwise).'),
    system: text.optional().describe('Default RxNorm.'),
    order: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/).optional().describe('Id of the MedicationRequest it was given for.'),
    ago: ago.describe('When it started (in-progress) or was given.'),
    status: text.optional().describe('Default "in-progress" (a running infusion); "completed" for a dose given.'),
  })
  .describe('A medication administration shorthand.');
const serviceRequest = z
  .strictObject({ code: text, system: text.optional().describe('Default SNOMED CT.'), status: text.optional().describe('Default "active".') })
  .describe('A service request shorthand.');

const device = z
  .strictObject({ code: text, system: text.optional().describe('Default SNOMED CT.'), status: text.optional().describe('Default "active".') })
  .describe('A device shorthand (Device.type), e.g. a central venous catheter.');

const procedure = z
  .strictObject({
    code: text,
    system: text.optional().describe('Default SNOMED CT.'),
    status: text.optional().describe('Default "completed".'),
    ago: ago.optional().describe('When it was performed (performedDateTime); none when not given.'),
  })
  .describe('A procedure shorthand (Procedure.code), e.g. a left ventricular assist device placement.');

const either = <S extends z.ZodType>(shorthand: S) => z.array(z.union([fhirResource, shorthand]));

export const expectedFiringSchema = z.union([
  text,
  z.strictObject({
    rule: text,
    indicator: z.enum(['info', 'warning', 'critical']).optional(),
    summaryContains: text.optional(),
    detailContains: text.optional().describe("Text the card's detail must contain (what a card names: a field, an order)."),
    lacks: z
      .array(text)
      .optional()
      .describe('Texts neither the summary nor the detail may contain (what a card must not say, e.g. "platelet" for a dobutamine order).'),
    suggestions: z
      .array(text)
      .optional()
      .describe("The card's suggestions, in order: each label must contain its text (e.g. \"blood cultures\"); [] for a card that offers none."),
  }),
]);

const timeZone = z.string().refine(isTimeZone, 'must be an IANA time zone name, e.g. America/New_York');

export const scenarioSchema = z.strictObject({
  name: text,
  patient: nameSchema.describe('The chart in tests/patients/, by its file name without .json.'),
  hook: z.enum(HOOKS),
  now: isoDateTime.optional().describe('Evaluation time; default the file\'s "now", else the current time.'),
  displayTimeZone: timeZone.optional().describe('The service\'s DISPLAY_TIME_ZONE for this scenario (an IANA name); default the file\'s, else UTC.'),
  selections: z.array(reference).min(1).optional().describe('order-select: the selected draft orders (default the chart\'s, else every draft).'),
  add: z
    .strictObject({
      observations: either(observation).optional(),
      conditions: either(clinical).optional(),
      allergies: either(clinical).optional(),
      medications: either(medication).optional(),
      serviceRequests: either(serviceRequest).optional(),
      devices: either(device).optional(),
      procedures: either(procedure).optional(),
      draftOrders: either(medication).optional(),
      administrations: either(administration).optional(),
    })
    .optional(),
  patientChanges: z
    .strictObject({
      birthDate: z.iso.date({ error: 'must be a date such as "2008-11-21"' }).optional(),
      deceasedBoolean: z.boolean().optional(),
      deceasedDateTime: isoDateTime.optional(),
    })
    .optional()
    .describe('Fields set on the chart\'s Patient resource (a child, a patient recorded as deceased).'),
  failing: z.array(text).max(20).optional().describe('Rule ids made to fail in this scenario, to show the card that says a check could not run.'),
  remove: z.array(text).optional().describe('Prefetch keys the EHR does not send.'),
  prefetch: z.record(z.string(), z.unknown()).optional().describe('Prefetch values sent as given (null, an OperationOutcome, ...).'),
  expect: z.strictObject({
    fires: z.array(expectedFiringSchema).optional(),
    absent: z.array(text).optional(),
    exactly: z.boolean().optional().describe('No rule other than those in "fires" may fire.'),
    status: z.number().int().min(200).max(599).optional().describe('The HTTP status when not 200 (e.g. 412).'),
  }),
});
export type Scenario = z.infer<typeof scenarioSchema>;

export const scenariosFileSchema = z.strictObject({
  $schema: z.literal('../schema/scenarios.schema.json', { error: 'must be "../schema/scenarios.schema.json"' }),
  now: isoDateTime.optional(),
  displayTimeZone: timeZone.optional(),
  scenarios: z.array(scenarioSchema).min(1),
});
export type ScenariosFile = z.infer<typeof scenariosFileSchema>;

export const chartSchema = z.strictObject({
  $schema: z.literal('../../schema/patient.schema.json', { error: 'must be "../../schema/patient.schema.json"' }).optional(),
  description: text,
  patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a plain FHIR id'),
  resources: z.array(fhirResource).describe('The record: Patient, active MedicationRequests, Observations, Conditions, AllergyIntolerances, ServiceRequests.'),
  draftOrders: z.array(fhirResource).optional().describe('The orders being written (context.draftOrders).'),
  selections: z.array(reference).min(1).optional(),
});
export type Chart = z.infer<typeof chartSchema>;
