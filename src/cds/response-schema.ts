import { z } from 'zod';
import { actionSchema, cardSchema } from '../shared/card.js';

/**
 * CDS Hooks 2.0 response contract (https://cds-hooks.hl7.org/2.0/#cds-service-response), strict: every
 * answer the service sends must pass it. The card itself is shared vocabulary (src/shared/card.ts).
 */

export const hookResponseSchema = z.strictObject({
  cards: z.array(cardSchema),
  systemActions: z.array(actionSchema).min(1).optional(),
});

export type HookResponse = z.infer<typeof hookResponseSchema>;

export const discoveryServiceSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9\-_.]+$/),
  hook: z.string().min(1),
  title: z.string().min(1),
  description: z.string().min(1),
  prefetch: z.record(z.string(), z.string().min(1)).optional(),
  usageRequirements: z.string().min(1).optional(),
});
export const discoveryResponseSchema = z.strictObject({ services: z.array(discoveryServiceSchema) });
export type DiscoveryService = z.infer<typeof discoveryServiceSchema>;
