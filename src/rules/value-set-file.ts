import { z } from 'zod';
import { ucumSchema } from '../facts/params.js';

/**
 * The shape of a value-set file (`value-sets/<name>.json`): one FHIR R4 `ValueSet` resource, so that a
 * published expansion can be imported and compared, plus a few inotrope-cds additions that say how
 * observations coded in the set are read (docs/rule-format.md "Value sets"). The set's name in rule
 * files is the file name without `.json`.
 */

const text = z.string().min(1, 'must not be empty');
const ucum = ucumSchema.describe('A UCUM unit (case-sensitive), e.g. "mmol/L", "mm[Hg]", "ug/kg/min", "Cel".');
const quantity = z.strictObject({ value: z.number().positive(), unit: ucum });

/** `system|code`, as observations and operators name a coding. */
const systemCode = z
  .string()
  .regex(/^[^|\s]+\|[^|\s]+$/, 'must be "system|code", e.g. "http://loinc.org|98979-8"');

export const FILTER_OPS = ['is-a', 'descendent-of'] as const;

const concept = z.strictObject({
  code: text,
  display: text.optional(),
  concentration: quantity
    .optional()
    .describe('inotrope-cds: product strength as UCUM mass/volume (e.g. 0.2 mg/mL): turns a pump rate in mL/h into a dose rate.'),
});

const includeSchema = z
  .strictObject({
    system: text.optional().describe('Code system URI, e.g. http://hl7.org/fhir/sid/icd-10-cm'),
    version: text.optional().describe('Code-system version the codes were taken from (informative).'),
    concept: z.array(concept).min(1).optional().describe('The codes, listed one by one.'),
    filter: z
      .array(
        z.strictObject({
          property: z.literal('concept', { error: 'must be "concept"' }),
          op: z.enum(FILTER_OPS, { error: 'must be "is-a" (the code and its descendants) or "descendent-of" (descendants only)' }),
          value: text.describe('The parent code, e.g. "I50" or "I48".'),
        }),
      )
      .min(1)
      .optional()
      .describe('ICD-10-CM only: the code hierarchy is the code itself (I48 has I48.0 ... I48.91 below it).'),
    valueSet: z
      .array(text)
      .min(1)
      .optional()
      .describe('Canonical URLs (`url`, optionally `|version`) of other value sets in value-sets/ whose codes this one includes.'),
  })
  .superRefine((inc, ctx) => {
    if (inc.concept === undefined && inc.filter === undefined && inc.valueSet === undefined) {
      ctx.addIssue({ code: 'custom', message: 'an include or exclude needs "concept", "filter" or "valueSet"' });
    }
    if ((inc.concept !== undefined || inc.filter !== undefined) && inc.system === undefined) {
      ctx.addIssue({ code: 'custom', message: '"concept" and "filter" need the "system" they are codes of' });
    }
    if (inc.concept !== undefined && inc.filter !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'write "concept" and "filter" in separate includes (FHIR reads them as "in both")' });
    }
  });
export type ValueSetInclude = z.infer<typeof includeSchema>;

const unitEntry = z.union([
  ucum,
  z.strictObject({
    unit: ucum.describe('The unit as recorded (after mapping EHR spellings such as "mcg" to UCUM).'),
    readAs: ucum.describe('Read the value as this unit, unchanged: for codes whose definition fixes what the lab leaves out.'),
    codes: z.array(text).min(1).optional().describe('Only for these codes of the set (default: every code).'),
    why: text.describe('Why reading it so is right, with the source.'),
  }),
]);
export type UnitEntry = z.infer<typeof unitEntry>;

export const valueSetFileSchema = z
  .strictObject({
    $schema: z
      .literal('../schema/value-set.schema.json', { error: 'must be "../schema/value-set.schema.json" (the JSON Schema for value-set files, relative to it)' })
      .describe('The JSON Schema that lets an editor complete and check this file.'),
    resourceType: z.literal('ValueSet', { error: 'must be "ValueSet"' }),
    id: text.optional(),
    url: text.optional().describe('Canonical URL; other sets include this one by it. Default "urn:inotrope-cds:value-set:<file name>".'),
    identifier: z.array(z.strictObject({ system: text.optional(), value: text })).optional().describe('E.g. the VSAC OID.'),
    version: text.optional().describe('The published version (VSAC: the set\'s version date).'),
    name: text.optional().describe('Computable name as published (e.g. "HeartFailure").'),
    title: text.describe('How cards name the concept, e.g. "milrinone" or "Potassium".'),
    status: z.enum(['draft', 'active', 'retired', 'unknown']).optional(),
    publisher: text.optional(),
    description: text.optional().describe('What the set is for and how it was curated.'),
    source: text.optional().describe('inotrope-cds: where the codes come from (VSAC OID and version, label, clinical reference).'),
    compose: z
      .strictObject({
        include: z.array(includeSchema).min(1),
        exclude: z.array(includeSchema).min(1).optional().describe('Codes taken out after every include (e.g. "history of" codes).'),
      })
      .optional()
      .describe('Which codes are in the set. The loader expands it once, at load. Only a set of names (`matchText`) may leave it out.'),
    expansion: z
      .strictObject({
        identifier: text.optional(),
        timestamp: text.describe('When the published expansion this file was imported from was made.'),
        total: z.number().int().min(0).optional(),
      })
      .optional()
      .describe('For an imported set: the published expansion\'s identity (its codes are in compose).'),
    molarMass: quantity.optional().describe('inotrope-cds: g/mol, lets mass and substance units be compared (mg/dL vs mmol/L).'),
    charge: z.number().int().positive().optional().describe('inotrope-cds: ionic charge, lets substance and equivalent units be compared (mmol/L vs meq/L).'),
    units: z
      .array(unitEntry)
      .min(1)
      .optional()
      .describe('inotrope-cds: the units an observation coded in this set may be recorded in (others are reported, never used); default: any UCUM unit that converts.'),
    sameTime: z
      .strictObject({
        prefer: z.array(systemCode).min(1).optional().describe('Codes that win over the others recorded at the same instant, first first.'),
        choose: z.enum(['lowest', 'highest']).describe('Otherwise the lowest or the highest value (the one that makes the safety checks more cautious).'),
      })
      .optional()
      .describe('inotrope-cds: which of several values recorded at the same instant is used (the card names the others).'),
    timeOfDay: z
      .boolean()
      .optional()
      .describe('inotrope-cds: cards show a value of this set with its time of day in DISPLAY_TIME_ZONE, not its date alone (vital signs, charted several times a day).'),
    matchText: z
      .array(z.string().regex(/^[a-z]+( [a-z]+)*$/, 'must be lower-case words, e.g. "milrinone"'))
      .min(1)
      .optional()
      .describe('inotrope-cds: words that identify a record by name when none of its codes is in the set: an order (drug sets; the card says so), an allergy or condition recorded as text. A set with no verified code may be names only.'),
    disjointWith: z
      .array(z.string())
      .min(1)
      .optional()
      .describe('inotrope-cds: names of sets that must share no code with this one (checked at load).'),
  })
  .refine((vs) => vs.compose !== undefined || vs.matchText !== undefined, {
    message: 'a value set needs "compose" (its codes) or, where no verified code exists, "matchText" (its names)',
    path: ['compose'],
  })
  .describe('A value set: a FHIR ValueSet resource with inotrope-cds additions.');
export type ValueSetFile = z.infer<typeof valueSetFileSchema>;
