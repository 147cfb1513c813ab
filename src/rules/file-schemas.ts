import { z } from 'zod';
import { HOOKS } from '../shared/hooks.js';
import { CATEGORIES } from '../shared/card.js';
import { LINE_GRADES } from '../facts/types.js';
import { nameSchema as name } from '../shared/syntax.js';
import { FACTS } from '../facts/index.js';
import { durationSchema, ucumSchema } from '../facts/params.js';
import { KNOWN_OPERATORS, OPERATOR_PATTERN } from './operators.js';
import type { ConditionNode } from '../shared/operator-api.js';

/**
 * The shape of every JSON file under rules/ (docs/rule-format.md). These zod schemas are the single
 * source: the loader validates with them and `inotrope-cds schema` turns them into the JSON Schemas
 * in rules/schema/ that editors use. Objects are strict so a misspelt key is an error, not ignored.
 */

const duration = durationSchema.describe('A duration: a number and a unit (min, h, d, w, y), e.g. "72h".');
const ucum = ucumSchema.describe('A UCUM unit (case-sensitive), e.g. "mmol/L", "mm[Hg]", "ug/kg/min", "Cel".');
const text = z.string().min(1, 'must not be empty');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const schemaRef = (file: string) =>
  z.literal(file, { error: `must be "${file}" (the JSON Schema for this kind of file, relative to it)` }).describe(
    'The JSON Schema that lets an editor complete and check this file.',
  );


const coding = z.strictObject({ system: text, code: text, display: text });

export const POPULATIONS = ['all-ages', 'adults', 'deceased'] as const;
export type Population = (typeof POPULATIONS)[number];

// settings.json -------------------------------------------------------------------------------

export const settingsFileSchema = z
  .strictObject({
    $schema: schemaRef('./schema/settings.schema.json'),
    inotropes: z
      .array(name)
      .min(1)
      .describe('Value-set names: a medication order whose drug coding is in one of them is an inotrope order.'),
    ivRoute: name.describe('Value set of route codes that make an order intravenous.'),
    ivProducts: name.describe('Value set of product codes that are IV by their dose form (used when an order has no route).'),
    homeOrderCategories: name
      .optional()
      .describe('Value set of MedicationRequest.category codes that make an order a home order (taken at home, or for discharge); without it no order is one.'),
    weight: z
      .strictObject({ valueSet: name, maxAge: duration })
      .describe('Where weight-based dose checks read body weight, and how recent it must be.'),
    source: z.strictObject({ label: text, url: httpUrl.optional() }).describe('source.label (and default source.url) of every card.'),
    adultAge: duration
      .default('18y')
      .describe('Patients younger than this are children: rules for "adults" do not run for them (the dose and threshold rules are written for adults).'),
    staleOrderAge: duration
      .default('7d')
      .describe('An active inotrope order authored longer ago than this with no administration recorded looks stale: it is not checked as a running infusion.'),
    overrideReasons: z
      .array(coding)
      .min(1)
      .describe('Offered on every warning and critical card unless the rule gives its own.'),
    lineCompatibility: z
      .array(
        z.strictObject({
          inotrope: name.describe('An inotrope value set (one of "inotropes").'),
          with: z.array(name).min(1).describe('Value sets of the drugs or solutions graded against it.'),
          grade: z
            .enum(LINE_GRADES)
            .describe('incompatible: documented physical incompatibility; variable: sources conflict or depend on concentration; diluent: do not dilute in or mix with.'),
          finding: text.describe('What the source reports, in words a clinician reads on the card (no internal ids).'),
          source: text.describe('docs/references.md keys the grade rests on, and any conflicting report.'),
        }),
      )
      .default([])
      .describe('Y-site grades of IV drugs given alongside an inotrope (the coadministered fact); validate locally with pharmacy.'),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.lineCompatibility.forEach((pair, i) =>
      pair.with.forEach((drug, j) => {
        const key = `${pair.inotrope} ${drug}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['lineCompatibility', i, 'with', j], message: `${pair.inotrope} + ${drug} is graded twice` });
        seen.add(key);
      }),
    );
  })
  .describe('inotrope-cds settings: which value sets are the inotropes, IV routes, weight, card source, Y-site grades.');
export type SettingsFile = z.infer<typeof settingsFileSchema>;

// thresholds/*.json ---------------------------------------------------------------------------

export const thresholdsFileSchema = z.strictObject({
  $schema: schemaRef('../schema/thresholds.schema.json'),
  thresholds: z
    .record(
      name,
      z.strictObject({
        value: z.number(),
        unit: ucum,
        maxAge: duration.optional().describe('Observations older than this count as missing when read through the threshold.'),
        source: text.optional(),
      }),
    )
    .optional(),
  tables: z
    .record(
      name,
      z.strictObject({
        input: z.strictObject({ unit: ucum }),
        output: z.strictObject({ unit: ucum }),
        method: z
          .enum(['floor', 'interpolate'])
          .describe('floor: the row at or below the input; interpolate: linear between rows.'),
        rows: z.array(z.tuple([z.number(), z.number()])).min(1).describe('[input, output] pairs, ascending by input.'),
        source: text.optional(),
      }),
    )
    .optional(),
});
export type ThresholdsFile = z.infer<typeof thresholdsFileSchema>;

// rules/*.json --------------------------------------------------------------------------------

export type { ConditionNode };

const LEAF_KEYS = ['fact', 'params', 'path', 'operator', 'value'] as const;
const BOOLEAN_KEYS = ['all', 'any', 'not'] as const;

// One object type with a refinement rather than a union: zod reports a union mismatch as one vague
// "Invalid input", while this names the missing or conflicting key.
export const conditionSchema: z.ZodType<ConditionNode> = z
  .strictObject({
    get all() {
      return z.array(conditionSchema).min(1).optional().describe('Every sub-condition must hold.');
    },
    get any() {
      return z.array(conditionSchema).min(1).optional().describe('At least one sub-condition must hold.');
    },
    get not() {
      return conditionSchema.optional().describe('The sub-condition must not hold.');
    },
    fact: text
      .optional()
      .meta({ description: 'A fact id (e.g. "latestObservation") or a rule-local fact name.', examples: Object.keys(FACTS) }),
    params: z.record(z.string(), z.unknown()).optional().describe('The fact\'s params (not with a rule-local fact).'),
    // A regex, not startsWith: zod writes startsWith into JSON Schema as a `format` no validator knows.
    path: z.string().regex(/^\$/, 'must be a JSONPath starting with "$", e.g. "$.value"').optional(),
    // The pattern is for editors; the loader checks operators itself, to suggest the closest name.
    operator: text.optional().meta({
      description: `One of ${KNOWN_OPERATORS.join(', ')}; decorators such as "someFact:" may prefix it.`,
      examples: [...KNOWN_OPERATORS],
      pattern: OPERATOR_PATTERN,
    }),
    value: z
      .unknown()
      .optional()
      .describe('A number, string, boolean or array; { "threshold": "<name>" } for a threshold\'s value; or { "fact": ..., "params"?, "path"? }.'),
    // json-rules-engine's condition-level priority and name change nothing here (every condition is
    // evaluated; cards do not report which one held): refused by name rather than silently ignored.
    priority: z.never({ error: 'condition-level "priority" is not supported: conditions are all evaluated (order rules with the rule\'s "priority")' }).optional(),
    name: z.never({ error: 'condition-level "name" is not supported: name a fact instead under the rule\'s "facts"' }).optional(),
  })
  .superRefine((node, ctx) => {
    const booleans = BOOLEAN_KEYS.filter((k) => node[k] !== undefined);
    const leafKeys = LEAF_KEYS.filter((k) => node[k] !== undefined);
    if (booleans.length > 1) {
      ctx.addIssue({ code: 'custom', message: `a condition has one of "all", "any" or "not", not ${booleans.map((b) => `"${b}"`).join(' and ')}` });
    } else if (booleans.length === 1 && leafKeys.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `"${booleans[0]}" cannot be combined with ${leafKeys.map((k) => `"${k}"`).join(', ')}: put the comparison inside it`,
      });
    } else if (booleans.length === 0) {
      const missing = (['fact', 'operator', 'value'] as const).filter((k) => !(k in node));
      if (missing.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `a condition is either { "all" | "any" | "not": ... } or a comparison with "fact", "operator" and "value"; missing ${missing.map((k) => `"${k}"`).join(', ')}`,
        });
      }
    }
  })
  .meta({ id: 'condition', description: 'A json-rules-engine condition: all / any / not, or a comparison { fact, params?, path?, operator, value }.' });

const topCondition = conditionSchema.refine((c) => c.all !== undefined || c.any !== undefined || c.not !== undefined, {
  message: 'the top of "conditions" must be "all", "any" or "not"',
});

const actionSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('create'),
      description: text,
      resource: z
        .looseObject({
          resourceType: z.enum(['ServiceRequest', 'NutritionOrder'], { error: 'must be "ServiceRequest" or "NutritionOrder"' }),
          intent: z.literal('proposal', { error: 'must be "proposal": cards propose orders, the clinician decides' }),
        })
        .describe('The FHIR resource to propose; strings inside are templates.'),
    })
    .describe('Propose a new ServiceRequest or NutritionOrder.'),
  z
    .strictObject({
      type: z.literal('update-draft-rate'),
      description: text,
      rate: z
        .union([z.number().positive(), text])
        .describe('The new rate in ug/kg/min: a number or a template such as "{{limit.output}}".'),
    })
    .describe('Update the draft MedicationRequest (order scope) with this rate in ug/kg/min.'),
  z.strictObject({ type: z.literal('delete-draft'), description: text }).describe('Delete the draft order (order scope).'),
]);

const cardSchema = z
  .strictObject({
    indicator: z.enum(['info', 'warning', 'critical']),
    summary: text.describe('Template; under 140 characters once rendered (longer is cut with an ellipsis).'),
    detail: text.optional().describe('Markdown template: show the facts used (values, units, dates, threshold).'),
    selectionBehavior: z
      .enum(['at-most-one', 'any'])
      .optional()
      .describe('How many suggestions a clinician may accept; default "at-most-one".'),
    preparesDraft: z
      .boolean()
      .optional()
      .describe(
        'The card prepares the start of the inotrope being ordered (labs, telemetry before the first dose): left out when a critical card of the same response removes that draft (every inotrope order it is about, for a patient-scoped rule).',
      ),
    variants: z
      .array(
        z
          .strictObject({ when: topCondition, summary: text.optional(), detail: text.optional() })
          .refine((v) => v.summary !== undefined || v.detail !== undefined, { message: 'a variant replaces the summary, the detail or both: give one' }),
      )
      .min(1)
      .optional()
      .describe('Other wording for a situation (e.g. no infusion running yet): the first variant whose condition holds replaces the summary and/or detail.'),
    escalate: z
      .strictObject({ indicator: z.enum(['warning', 'critical']), when: topCondition })
      .optional()
      .describe('A louder indicator when this condition holds too (e.g. info above the usual dose, warning above the highest reported).'),
    notes: z
      .array(
        z.strictObject({
          text: text.describe('Markdown template, added to the detail as its own paragraph.'),
          when: topCondition
            .optional()
            .describe('Add the paragraph only when this condition holds too; without it the paragraph is always added (a closing that follows the conditional ones).'),
        }),
      )
      .min(1)
      .optional()
      .describe('Paragraphs added, in order, at the end of the detail: each only when its condition holds (e.g. a sentence about one drug only when that drug is ordered); one without a condition always.'),
    suggestions: z
      .array(
        z.strictObject({
          label: text,
          isRecommended: z.boolean().optional(),
          when: topCondition.optional().describe('Offer the suggestion only when this condition holds too.'),
          actions: z.array(actionSchema).min(1),
        }),
      )
      .min(1)
      .optional(),
    overrideReasons: z
      .array(coding)
      .min(1)
      .optional()
      .describe('Reasons a clinician may give for overriding; default settings.overrideReasons on warning and critical cards.'),
  })
  .refine((c) => c.selectionBehavior === 'any' || (c.suggestions ?? []).filter((s) => s.isRecommended).length <= 1, {
    message: 'with selectionBehavior "at-most-one" (the default) at most one suggestion may be recommended',
    path: ['suggestions'],
  });
export type RuleCard = z.infer<typeof cardSchema>;

export const ruleSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Z0-9]+(-[A-Z0-9]+)*$/, 'must be upper-case letters, digits and hyphens, e.g. "CI-HYPOKALEMIA"'),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a version such as "1.0.0"'),
    title: text,
    description: text.optional().describe('Free text for authors and reviewers: why the rule exists.'),
    category: z.enum(CATEGORIES),
    hooks: z
      .array(z.enum(HOOKS))
      .min(1)
      .refine((h) => new Set(h).size === h.length, 'lists a hook twice'),
    status: z.enum(['active', 'silent', 'retired']).describe('active: cards returned; silent: evaluated and counted only; retired: not loaded.'),
    scope: z
      .enum(['patient', 'order'])
      .default('patient')
      .describe('patient: evaluated once per call; order: once per subject inotrope order, with the "order" fact bound to it.'),
    alsoRunning: z
      .boolean()
      .default(false)
      .describe(
        'Order scope: at order-select and order-sign, also check each running (active) inotrope order, unless a draft of the same drug is in the call (that draft is the re-order and is checked itself).',
      ),
    requiresInotrope: z.boolean().default(true).describe('Run only when the patient has an inotrope order (draft or active).'),
    population: z
      .enum(POPULATIONS)
      .default('all-ages')
      .describe(
        'Whom the rule is for: all-ages (living patients of any age), adults (not run for a patient younger than settings.adultAge: dose and threshold rules written for adults), deceased (run only, and instead of every other rule, when the record marks the patient deceased).',
      ),
    priority: z.number().int().min(1).optional().describe('Evaluation order only (higher first); results do not depend on it.'),
    references: z
      .array(
        z.strictObject({
          label: text,
          url: httpUrl.optional(),
          when: topCondition
            .optional()
            .describe('Show this source as a link on the card only when this condition holds too (e.g. a drug\'s label only when that drug is involved); rule listings always show it.'),
        }),
      )
      .min(1),
    facts: z
      .record(
        name,
        z.strictObject({
          fact: text.meta({ description: 'The fact id.', examples: Object.keys(FACTS) }),
          params: z.record(z.string(), z.unknown()).optional().describe('The fact\'s params (docs/rule-format.md "Facts").'),
        }),
      )
      .optional()
      .describe('Rule-local names for a fact with its params; conditions and templates use the name.'),
    conditions: topCondition,
    card: cardSchema,
  })
  .describe('One rule: when the conditions hold, the card is shown.');
export type RuleDefinition = z.infer<typeof ruleSchema>;

export const rulesFileSchema = z.strictObject({
  $schema: schemaRef('../schema/rules.schema.json'),
  rules: z.array(ruleSchema).min(1),
});
export type RulesFile = z.infer<typeof rulesFileSchema>;
