import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { base64url, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Config } from '../../src/config.js';
import type { Hook } from '../../src/shared/hooks.js';
import type { Ruleset } from '../../src/rules/ruleset.js';
import { hookModule } from '../../src/cds/hooks/registry.js';
import { hookRequirements } from '../../src/cds/handle-hook.js';
import { makeApp } from '../helpers.js';

/** The clock makeApp gives the app (test/helpers.ts); tokens are minted relative to it. */
export const NOW_S = Date.parse('2026-11-21T12:00:00Z') / 1000;
export const BASE = 'https://cds.example.org';
export const ISS = 'https://ehr.example.org';
export const EHR_FHIR = 'https://ehr.example.org/fhir';
export const SERVICE_PATH = '/cds-services/inotrope-order-sign';
export const SERVICE_AUD = `${BASE}${SERVICE_PATH}`;

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newKey(alg = 'ES384', kid = `kid-${randomUUID()}`): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A real signed client JWT with STU2 claims; any claim or header field can be overridden or removed (undefined). */
export async function signToken(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const payload = dropUndefined({
    iss: ISS,
    aud: SERVICE_AUD,
    iat: NOW_S,
    exp: NOW_S + 300,
    jti: randomUUID(),
    ...claims,
  }) as JWTPayload;
  const protectedHeader = dropUndefined({ alg: key.alg, typ: 'JWT', kid: key.kid, ...header }) as { alg: string };
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(key.privateKey);
}

/** An unsigned token with any header: for `alg: none` and similar forgeries. */
export function unsignedToken(header: Record<string, unknown>, claims: Record<string, unknown>, signature = ''): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${enc(header)}.${enc(claims)}.${signature}`;
}

export function writeClientsFile(file: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cds-clients-'));
  const p = path.join(dir, 'clients.json');
  writeFileSync(p, typeof file === 'string' ? file : JSON.stringify(file));
  return p;
}

/** The real app with authentication on and the given clients file content. */
export async function makeAuthApp(
  clients: unknown[],
  overrides: Partial<Config> = {},
  options: { logLevel?: Config['LOG_LEVEL'] } = {},
) {
  return makeApp(
    { CDS_AUTH: 'on', PUBLIC_BASE_URL: BASE, CDS_CLIENTS_FILE: writeClientsFile({ clients }), ...overrides },
    options,
  );
}

export const PATIENT_ID = 'pat-7f3a9c21';
export const PATIENT_FAMILY = 'Quetzalcoatl-Hargreave';

/**
 * A valid request for the hook, our own fixture: a dobutamine draft order (order-sign/-select) and
 * a prefetch answering every key the loaded ruleset asks for (the Patient, empty searches otherwise),
 * so it needs no FHIR server whatever the ruleset holds.
 */
export function validRequest(hook: Hook, ruleset: Ruleset, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const order = {
    resourceType: 'MedicationRequest',
    id: 'draft-1',
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${PATIENT_ID}` },
    medicationCodeableConcept: {
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '3616', display: 'dobutamine' }],
    },
    dosageInstruction: [
      {
        route: { coding: [{ system: 'http://snomed.info/sct', code: '47625008', display: 'Intravenous route' }] },
        doseAndRate: [{ rateQuantity: { value: 5, unit: 'ug/kg/min', system: 'http://unitsofmeasure.org', code: 'ug/kg/min' } }],
      },
    ],
  };
  const context: Record<string, unknown> = { userId: 'Practitioner/example', patientId: PATIENT_ID, encounterId: 'enc-1' };
  if (hook === 'order-select' || hook === 'order-sign') context.draftOrders = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: order }] };
  if (hook === 'order-select') context.selections = ['MedicationRequest/draft-1'];
  const prefetch = Object.fromEntries(
    hookRequirements(hookModule(hook), ruleset).map((r) => [
      r.key,
      r.resourceType === 'Patient' && !r.template.includes('?')
        ? {
            resourceType: 'Patient',
            id: PATIENT_ID,
            name: [{ family: PATIENT_FAMILY, given: ['Ottoline'] }],
            gender: 'female',
            birthDate: '1961-04-02',
          }
        : r.resourceType === 'Encounter'
          ? { resourceType: 'Encounter', id: 'enc-1', status: 'in-progress', subject: { reference: `Patient/${PATIENT_ID}` } }
          : { resourceType: 'Bundle', type: 'searchset', total: 0 },
    ]),
  );
  return {
    hook,
    hookInstance: randomUUID(),
    context,
    ...(Object.keys(prefetch).length > 0 && { prefetch }),
    ...extra,
  };
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** An order-sign request whose every Condition prefetch key holds one active obstructive HCM (SNOMED 45227007) with this display. */
export function withHocmDisplay(ruleset: Ruleset, display: string): { prefetch: Record<string, unknown> } {
  const req = validRequest('order-sign', ruleset) as { prefetch: Record<string, unknown> };
  const keys = ruleset.requirements('order-sign').filter((r) => r.resourceType === 'Condition').map((r) => r.key);
  if (keys.length === 0) throw new Error('order-sign reads no Condition: the attack would not reach a card');
  const condition = {
    resourceType: 'Condition',
    id: 'hocm',
    subject: { reference: `Patient/${PATIENT_ID}` },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '45227007', display }] },
  };
  for (const key of keys) req.prefetch[key] = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: condition }] };
  return req;
}
