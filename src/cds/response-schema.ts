import { z } from 'zod';

/**
 * CDS Hooks 2.0 response contract (shared/cds-hooks.md §6), strict: every card the service emits must
 * pass it. Optional attributes must be absent rather than null or empty (G2); the only empty value
 * allowed is `"cards": []`.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
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

export const hookResponseSchema = z.strictObject({
  cards: z.array(cardSchema),
  systemActions: z.array(actionSchema).min(1).optional(),
});

export type Coding = z.infer<typeof codingSchema>;
export type Action = z.infer<typeof actionSchema>;
export type Suggestion = z.infer<typeof suggestionSchema>;
export type Card = z.infer<typeof cardSchema>;
export type HookResponse = z.infer<typeof hookResponseSchema>;

export const discoveryServiceSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9\-_.]+$/),
  hook: nonEmpty,
  title: nonEmpty,
  description: nonEmpty,
  prefetch: z.record(z.string(), nonEmpty).optional(),
  usageRequirements: nonEmpty.optional(),
});
export const discoveryResponseSchema = z.strictObject({ services: z.array(discoveryServiceSchema) });
export type DiscoveryService = z.infer<typeof discoveryServiceSchema>;
