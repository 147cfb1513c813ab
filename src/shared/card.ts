import { z } from 'zod';
import { UUID } from './syntax.js';

/**
 * The card as CDS Hooks 2.0 defines it (https://cds-hooks.hl7.org/2.0/#card-attributes), strict: every
 * card the service emits must pass it. Optional attributes must be absent rather than null or empty.
 * Cards are built by the cards layer, returned by the protocol layer and remembered by the stores.
 */

const nonEmpty = z.string().min(1);
const absoluteUrl = z.url({ protocol: /^https?$/ });

export const codingSchema = z.strictObject({
  system: nonEmpty,
  code: nonEmpty,
  display: nonEmpty.optional(),
});

const reasonCodingSchema = codingSchema.required({ display: true });

export const actionSchema = z
  .strictObject({
    type: z.enum(['create', 'update', 'delete']),
    description: nonEmpty,
    resource: z.looseObject({ resourceType: nonEmpty }).optional(),
    resourceId: z.string().regex(/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/).optional(),
  })
  .refine((a) => a.type === 'delete' || a.resource !== undefined, { message: 'create/update need a resource' })
  .refine((a) => a.type !== 'delete' || a.resourceId !== undefined, { message: 'delete needs a resourceId' });

export const suggestionSchema = z.strictObject({
  label: nonEmpty,
  uuid: z.string().regex(UUID),
  isRecommended: z.boolean().optional(),
  actions: z.array(actionSchema).min(1).optional(),
});

export const linkSchema = z
  .strictObject({
    label: nonEmpty,
    url: absoluteUrl,
    type: z.enum(['absolute', 'smart']),
    appContext: nonEmpty.optional(),
    autolaunchable: z.boolean().optional(),
  })
  .refine((l) => l.type === 'smart' || l.appContext === undefined, { message: 'appContext only on smart links' });

export const sourceSchema = z.strictObject({
  label: nonEmpty,
  url: absoluteUrl.optional(),
  icon: absoluteUrl.optional(),
  topic: codingSchema.optional(),
});

export const cardSchema = z
  .strictObject({
    uuid: z.string().regex(UUID),
    summary: nonEmpty.max(139),
    detail: nonEmpty.optional(),
    indicator: z.enum(['info', 'warning', 'critical']),
    source: sourceSchema,
    suggestions: z.array(suggestionSchema).min(1).optional(),
    selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
    overrideReasons: z.array(reasonCodingSchema).min(1).optional(),
    links: z.array(linkSchema).min(1).optional(),
    extension: z.looseObject({}).optional(),
  })
  .refine((c) => c.suggestions === undefined || c.selectionBehavior !== undefined, {
    message: 'selectionBehavior is required with suggestions',
    path: ['selectionBehavior'],
  })
  .refine(
    (c) => c.selectionBehavior !== 'at-most-one' || (c.suggestions ?? []).filter((s) => s.isRecommended).length <= 1,
    { message: 'at most one recommended suggestion with at-most-one', path: ['suggestions'] },
  );

export type Coding = z.infer<typeof codingSchema>;
export type Action = z.infer<typeof actionSchema>;
export type Suggestion = z.infer<typeof suggestionSchema>;
export type Card = z.infer<typeof cardSchema>;

/** The card extension naming the rule that raised the card. */
export const RULE_EXTENSION = 'org.inotrope-cds.rule';
export interface RuleExtension {
  id: string;
  version: string;
  ruleset: string;
  /** The order the card is about, for order-scoped rules. */
  subject?: string;
  /** On a reconciled card: the other rules whose limits it stands for (the card counts under `id`, the limiting one). */
  also?: { id: string; version: string }[];
}

/** The rule a card names in its extension, if it names one. */
export function ruleOf(card: Pick<Card, 'extension'>): RuleExtension | undefined {
  const ext = card.extension?.[RULE_EXTENSION] as Partial<RuleExtension> | undefined;
  return typeof ext?.id === 'string' && typeof ext.version === 'string' ? (ext as RuleExtension) : undefined;
}

/** Card categories (the card's `source.topic`), in the order the README's card contract lists them, with their display. */
export const CATEGORY_SYSTEM = 'urn:inotrope-cds:card-category';
export const CATEGORY_DISPLAY = {
  eligibility: 'Eligibility',
  contraindication: 'Contraindication',
  precaution: 'Precaution',
  interaction: 'Interaction',
  dosing: 'Dosing',
  alcohol: 'Alcohol',
  'iv-line': 'IV line',
  'duplicate-therapy': 'Duplicate therapy',
  monitoring: 'Monitoring',
  discharge: 'Discharge',
  'data-quality': 'Data quality',
} as const;
export type Category = keyof typeof CATEGORY_DISPLAY;
export const CATEGORIES = Object.keys(CATEGORY_DISPLAY) as [Category, ...Category[]];
