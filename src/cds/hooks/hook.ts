import { z } from 'zod';
import type { Hook, Moment, OrderSubjects } from '../../shared/hooks.js';
import type { DataRequirement } from '../../shared/patient-data.js';

/**
 * What defines one CDS hook here: its service (an interface EHRs configure: keep ids stable), its
 * context schema, the moment of care it is called at, which medication orders its rules evaluate,
 * and any prefetch it needs beyond what its rules read. One module per hook (src/cds/hooks/<hook>.ts),
 * listed in registry.ts; discovery, validation, the data layer, the evaluator, the CLI and the
 * scenario runner read the registry. Every hook is answered by the same use-case (../handle-hook.ts).
 */
export interface HookModule {
  readonly hook: Hook;
  readonly service: { readonly id: string; readonly title: string; readonly description: string };
  /** The hook's `context` (CDS Hooks hook definition); loose: unknown fields are tolerated. */
  readonly context: z.ZodType<HookContext>;
  readonly moment: Moment;
  readonly subjects: OrderSubjects;
  /** Prefetch the hook needs whatever the rules read (advertised in discovery and obtained like the rules' keys). */
  readonly requirements: readonly DataRequirement[];
}

/** Whether the hook's context schema requires `field` (read from the schema, so a hook says it in one place). */
export function requiresContextField(module: HookModule, field: keyof HookContext): boolean {
  const shape = (module.context as unknown as z.ZodObject).shape as Record<string, z.ZodType | undefined>;
  const schema = shape[field];
  return schema !== undefined && !schema.safeParse(undefined).success;
}

/** The context fields our hooks use; each hook's schema says which it requires. */
export interface HookContext {
  userId: string;
  patientId: string;
  encounterId?: string;
  draftOrders?: z.infer<typeof bundleSchema>;
  selections?: string[];
  [field: string]: unknown;
}

const fhirResourceSchema = z.looseObject({ resourceType: z.string().min(1) });

const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.string().optional(),
  entry: z.array(z.looseObject({ resource: fhirResourceSchema.optional() })).optional(),
});

const PLAIN_ID = /^[A-Za-z0-9\-.]{1,64}$/;
export const REFERENCE = /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

/** Context fields shared by the hooks (CDS Hooks hook library: userId, patientId, encounterId, draftOrders). */
export const contextFields = {
  userId: z.string().regex(/^(Practitioner|PractitionerRole|Patient|RelatedPerson)\/[A-Za-z0-9\-.]{1,64}$/, 'must be "ResourceType/id"'),
  patientId: z.string().regex(PLAIN_ID, 'must be a plain FHIR id (no "Patient/" prefix)'),
  encounterId: z.string().regex(PLAIN_ID, 'must be a plain FHIR id').optional(),
  draftOrders: draftOrdersSchema(),
};

function draftOrdersSchema() {
  const orderTypes = ['MedicationRequest', 'ServiceRequest', 'NutritionOrder', 'DeviceRequest', 'VisionPrescription'];
  // A Medication may travel with the draft orders whose medicationReference points to it (the data layer reads it).
  const entryTypes = [...orderTypes, 'Medication'];
  return bundleSchema.refine(
    (b) => (b.entry ?? []).every((e) => e.resource === undefined || entryTypes.includes(e.resource.resourceType)),
    { message: `entries must be order resources (${orderTypes.join(', ')}) or the Medications they reference` },
  );
}
