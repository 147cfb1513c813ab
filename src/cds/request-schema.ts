import { z } from 'zod';
import type { Hook } from '../shared/hooks.js';
import { UUID } from '../shared/syntax.js';

/**
 * CDS Hooks 2.0 request bodies (shared/cds-hooks.md §3, §4, §13). Objects are loose: unknown fields
 * and extensions are tolerated, never rejected. FHIR resources are checked only for being resources;
 * the data layer reads them defensively.
 */

const REFERENCE = /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;
const PLAIN_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export const fhirResourceSchema = z.looseObject({ resourceType: z.string().min(1) });
export type FhirResourceLike = z.infer<typeof fhirResourceSchema>;

export const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.string().optional(),
  entry: z.array(z.looseObject({ resource: fhirResourceSchema.optional() })).optional(),
});
export type BundleLike = z.infer<typeof bundleSchema>;

const ORDER_TYPES = ['MedicationRequest', 'ServiceRequest', 'NutritionOrder', 'DeviceRequest', 'VisionPrescription'];

const userId = z
  .string()
  .regex(/^(Practitioner|PractitionerRole|Patient|RelatedPerson)\/[A-Za-z0-9\-.]{1,64}$/, 'must be "ResourceType/id"');
const patientId = z.string().regex(PLAIN_ID, 'must be a plain FHIR id (no "Patient/" prefix)');
const encounterId = z.string().regex(PLAIN_ID, 'must be a plain FHIR id').optional();

// A Medication may travel with the draft orders whose medicationReference points to it (the data layer reads it).
const DRAFT_ENTRY_TYPES = [...ORDER_TYPES, 'Medication'];
const draftOrders = bundleSchema.refine(
  (b) => (b.entry ?? []).every((e) => e.resource === undefined || DRAFT_ENTRY_TYPES.includes(e.resource.resourceType)),
  { message: `entries must be order resources (${ORDER_TYPES.join(', ')}) or the Medications they reference` },
);

const patientViewContext = z.looseObject({ userId, patientId, encounterId });
const orderSignContext = z.looseObject({ userId, patientId, encounterId, draftOrders });
const orderSelectContext = z
  .looseObject({
    userId,
    patientId,
    encounterId,
    selections: z.array(z.string().regex(REFERENCE, 'must be "ResourceType/id"')).min(1),
    draftOrders,
  })
  .superRefine((ctx, issues) => {
    const present = new Set(
      (ctx.draftOrders.entry ?? []).flatMap((e) => (e.resource ? [`${e.resource.resourceType}/${String(e.resource.id)}`] : [])),
    );
    ctx.selections.forEach((sel, i) => {
      if (!present.has(sel)) {
        issues.addIssue({ code: 'custom', path: ['selections', i], message: `selection ${sel} is not in draftOrders` });
      }
    });
  });

export const CONTEXT_SCHEMAS = {
  'order-select': orderSelectContext,
  'order-sign': orderSignContext,
  'patient-view': patientViewContext,
} as const satisfies Record<Hook, z.ZodType>;

export const fhirAuthorizationSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i, 'must be "Bearer"'),
  expires_in: z.number().int().optional(),
  scope: z.string().optional(),
  subject: z.string().optional(),
  patient: z.string().optional(),
});
export type FhirAuthorization = z.infer<typeof fhirAuthorizationSchema>;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Envelope common to every hook; `context` is checked per hook by {@link parseHookRequest}. */
export const hookRequestSchema = z
  .looseObject({
    hook: z.string().min(1),
    hookInstance: z.string().regex(UUID, 'must be a UUID'),
    fhirServer: httpUrl.optional(),
    fhirAuthorization: fhirAuthorizationSchema.optional(),
    context: z.looseObject({}),
    prefetch: z.record(z.string(), z.unknown()).optional(),
    extension: z.looseObject({}).optional(),
  })
  .refine((r) => r.fhirAuthorization === undefined || r.fhirServer !== undefined, {
    message: 'fhirServer is required when fhirAuthorization is present',
    path: ['fhirServer'],
  });

export type OrderSelectContext = z.infer<typeof orderSelectContext>;
export type OrderSignContext = z.infer<typeof orderSignContext>;
export type PatientViewContext = z.infer<typeof patientViewContext>;

interface RequestBase {
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  prefetch?: Record<string, unknown>;
}
export type HookRequest =
  | (RequestBase & { hook: 'order-select'; context: OrderSelectContext })
  | (RequestBase & { hook: 'order-sign'; context: OrderSignContext })
  | (RequestBase & { hook: 'patient-view'; context: PatientViewContext });

export type ParseResult =
  | { ok: true; request: HookRequest }
  | { ok: false; issues: readonly { path: readonly PropertyKey[]; message: string }[] };

/** Validates a body for the given hook: envelope first, then the hook's context. */
export function parseHookRequest(body: unknown, hook: Hook): ParseResult {
  const envelope = hookRequestSchema.safeParse(body);
  if (!envelope.success) return { ok: false, issues: envelope.error.issues };
  if (envelope.data.hook !== hook) {
    return { ok: false, issues: [{ path: ['hook'], message: `this service answers the ${hook} hook, not ${envelope.data.hook}` }] };
  }
  const context = CONTEXT_SCHEMAS[hook].safeParse(envelope.data.context);
  if (!context.success) {
    return { ok: false, issues: context.error.issues.map((i) => ({ path: ['context', ...i.path], message: i.message })) };
  }
  const { hookInstance, fhirServer, fhirAuthorization, prefetch } = envelope.data;
  const request = {
    hook,
    hookInstance,
    context: context.data,
    ...(fhirServer !== undefined && { fhirServer }),
    ...(fhirAuthorization !== undefined && { fhirAuthorization }),
    ...(prefetch !== undefined && { prefetch }),
  } as HookRequest;
  return { ok: true, request };
}
