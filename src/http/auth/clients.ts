import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../config.js';
import { parseJsonText } from '../../shared/json-text.js';

/**
 * The CDS clients (EHRs) this service trusts, read from CDS_CLIENTS_FILE. Each client is known by
 * its JWT `iss`; its keys are given inline (`jwks`), at a URL exchanged out of band (`jwksUrl`), or
 * at one of the `jku` URLs it may name in a token header. `fhirServers` are the only FHIR servers a
 * request from that client may name: the EHR's access token goes to these and nowhere else.
 */

const httpsUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const jwkSchema = z.looseObject({ kty: z.string().min(1), kid: z.string().min(1) });

const clientSchema = z
  .strictObject({
    iss: z.string().min(1),
    jwksUrl: httpsUrl.optional(),
    jwks: z.strictObject({ keys: z.array(jwkSchema).min(1) }).optional(),
    jku: z.array(httpsUrl).min(1).optional(),
    tenant: z.string().min(1).optional(),
    fhirServers: z.array(httpsUrl),
  })
  .refine((c) => c.jwks !== undefined || c.jwksUrl !== undefined || c.jku !== undefined, {
    message: 'give the client keys: jwks (inline), jwksUrl, or jku (allowed JWKS URLs)',
  })
  .refine((c) => !(c.jwks?.keys ?? []).some((k) => 'd' in k || 'k' in k), {
    message: 'jwks must hold public keys only (no "d" or "k" members)',
    path: ['jwks'],
  });

const clientsFileSchema = z
  .strictObject({ clients: z.array(clientSchema).min(1) })
  .refine((f) => new Set(f.clients.map((c) => c.iss)).size === f.clients.length, {
    message: 'each iss may appear only once',
    path: ['clients'],
  });

export type CdsClient = z.infer<typeof clientSchema>;

/** Parses and validates a clients file's text; throws a ConfigError naming every problem. */
export function parseClients(text: string, source: string): readonly CdsClient[] {
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    const lines = parsed.slips.map((s) => `  line ${s.line}, column ${s.column}: ${s.message}`);
    throw new ConfigError(`CDS_CLIENTS_FILE ${source} is not valid JSON:\n${lines.join('\n')}`);
  }
  const result = clientsFileSchema.safeParse(parsed.value);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`CDS_CLIENTS_FILE ${source} is invalid:\n${lines.join('\n')}`);
  }
  return result.data.clients;
}

/** Reads CDS_CLIENTS_FILE at start-up, so a bad file stops the service before it listens. */
export function loadClients(file: string): readonly CdsClient[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`CDS_CLIENTS_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseClients(text, file);
}
