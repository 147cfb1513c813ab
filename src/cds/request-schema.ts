import { z } from 'zod';
import { UUID } from '../shared/syntax.js';
import type { Hook } from '../shared/hooks.js';
import type { HookContext, HookModule } from './hooks/hook.js';

/**
 * CDS Hooks 2.0 request bodies (https://cds-hooks.hl7.org/2.0/#http-request): the envelope common to
 * every hook here, each hook's `context` in its module (src/cds/hooks/). Objects are loose: unknown
 * fields and extensions are tolerated, never rejected. FHIR resources are checked only for being
 * resources; the data layer reads them defensively.
 */

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

export interface HookRequest {
  hook: Hook;
  hookInstance: string;
  context: HookContext;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  prefetch?: Record<string, unknown>;
}

export type ParseResult =
  | { ok: true; request: HookRequest }
  | { ok: false; issues: readonly { path: readonly PropertyKey[]; message: string }[] };

/** Validates a body for the given hook: envelope first, then the hook's context. */
export function parseHookRequest(body: unknown, module: HookModule): ParseResult {
  const { hook } = module;
  const envelope = hookRequestSchema.safeParse(body);
  if (!envelope.success) return { ok: false, issues: envelope.error.issues };
  if (envelope.data.hook !== hook) {
    return { ok: false, issues: [{ path: ['hook'], message: `this service answers the ${hook} hook, not ${envelope.data.hook}` }] };
  }
  const context = module.context.safeParse(envelope.data.context);
  if (!context.success) {
    return { ok: false, issues: context.error.issues.map((i) => ({ path: ['context', ...i.path], message: i.message })) };
  }
  const { hookInstance, fhirServer, fhirAuthorization, prefetch } = envelope.data;
  const request: HookRequest = {
    hook,
    hookInstance,
    context: context.data,
    ...(fhirServer !== undefined && { fhirServer }),
    ...(fhirAuthorization !== undefined && { fhirAuthorization }),
    ...(prefetch !== undefined && { prefetch }),
  };
  return { ok: true, request };
}
