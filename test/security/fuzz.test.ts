import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import nock from 'nock';
import { hookResponseSchema } from '../../src/cds/response-schema.js';
import type { Hook } from '../../src/shared/hooks.js';
import { HOOK_MODULES, hookModule } from '../../src/cds/hooks/registry.js';
import { hookRequirements } from '../../src/cds/handle-hook.js';
import type { Ruleset } from '../../src/rules/ruleset.js';
import { BASE, EHR_FHIR, ISS, PATIENT_ID, makeAuthApp, newKey, signToken, validRequest, type TestKey } from './security-helpers.js';

/**
 * Hostile input against the real app over real HTTP (authentication on): mutated valid requests, raw
 * bytes, and junk tokens. For every case: no 5xx, a JSON error body for every 4xx, a spec-valid body
 * for every 200, no unhandled rejection or uncaught exception; and afterwards a valid request still
 * answers correctly. FUZZ_RUNS sets the cases per property (default 2000).
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SERVICES = Object.fromEntries(HOOK_MODULES.map((m) => [m.hook, m.service.id])) as Record<Hook, string>;
const HOOKS = Object.keys(SERVICES) as Hook[];

let server: Server;
let origin: string;
let key: TestKey;
let ruleset: Ruleset;
const processErrors: unknown[] = [];
const onProcessError = (err: unknown) => processErrors.push(err);

beforeAll(async () => {
  process.on('unhandledRejection', onProcessError);
  process.on('uncaughtException', onProcessError);
  key = await newKey('ES256', 'fuzz-key');
  const made = await makeAuthApp([{ iss: ISS, jwks: { keys: [key.publicJwk] }, fhirServers: [EHR_FHIR] }], {
    RATE_LIMIT_PER_MINUTE: 10_000_000,
  });
  ruleset = made.ruleset;
  // The client's own FHIR server answers instantly (mutations that drop prefetch keys make the app fetch).
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  nock('https://ehr.example.org')
    .persist()
    .get(/.*/)
    .reply(200, (uri) => (uri.includes('/Patient/') ? { resourceType: 'Patient', id: PATIENT_ID } : { resourceType: 'Bundle', type: 'searchset', total: 0 }));
  server = createServer(made.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  nock.cleanAll();
  nock.enableNetConnect();
  process.off('unhandledRejection', onProcessError);
  process.off('uncaughtException', onProcessError);
});

interface Answer {
  status: number;
  body: unknown;
}

async function send(path: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const token = await signToken(key, { aud: `${BASE}${path}` });
  const res = await fetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body,
    // a request the service never answers is a failure to report, not a hung suite
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}

/** The invariant every answer must meet. */
function checkAnswer(answer: Answer): void {
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
  if (answer.status === 200) {
    expect(hookResponseSchema.safeParse(answer.body).success, JSON.stringify(answer.body)).toBe(true);
  } else {
    expect(answer.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
  }
}

async function expectStillHealthy(): Promise<void> {
  for (const hook of HOOKS) {
    const answer = await send(`/cds-services/${SERVICES[hook]}`, JSON.stringify(richRequest(hook)));
    expect(answer.status).toBe(200);
    hookResponseSchema.parse(answer.body);
  }
  expect(processErrors).toEqual([]);
}

/**
 * A valid request whose prefetch holds real resources for every key the ruleset asks for, so
 * mutations reach the data layer, the facts and the rules, not only the envelope.
 */
function richRequest(hook: Hook): Record<string, unknown> {
  const request = validRequest(hook, ruleset);
  const subject = { reference: `Patient/${PATIENT_ID}` };
  const entry = (resource: Record<string, unknown>) => ({
    resourceType: 'Bundle',
    type: 'searchset',
    total: 1,
    entry: [{ fullUrl: `${EHR_FHIR}/${String(resource.resourceType)}/${String(resource.id)}`, resource, search: { mode: 'match' } }],
  });
  const prefetch = Object.fromEntries(
    hookRequirements(hookModule(hook), ruleset).map((r) => {
      const [system, code] = /code=([^|&,]+)\|([^&,]+)/.exec(r.template)?.slice(1) ?? ['http://loinc.org', '0-0'];
      switch (r.resourceType) {
        case 'Encounter':
          return [r.key, (request.prefetch as Record<string, unknown>)[r.key]];
        case 'Procedure':
          return [r.key, entry({ resourceType: 'Procedure', id: 'pr1', status: 'completed', subject, performedDateTime: '2026-11-20T08:00:00Z', code: { coding: [{ system: 'http://snomed.info/sct', code: '232717009' }] } })];
        case 'Device':
          return [r.key, entry({ resourceType: 'Device', id: 'd1', status: 'active', patient: subject, type: { coding: [{ system: 'http://snomed.info/sct', code: '52124006' }] } })];
        case 'Patient':
          return [r.key, r.template.includes('?') ? entry({ resourceType: 'Patient', id: PATIENT_ID }) : (request.prefetch as Record<string, unknown>)[r.key]];
        case 'Observation':
          return [
            r.key,
            entry({
              resourceType: 'Observation',
              id: `obs-${r.key}`,
              status: 'final',
              code: { coding: [{ system, code }] },
              subject,
              effectiveDateTime: '2026-11-21T08:00:00Z',
              valueQuantity: { value: 4.2, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
            }),
          ];
        case 'Condition':
          return [
            r.key,
            entry({
              resourceType: 'Condition',
              id: 'hf',
              clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
              code: { coding: [{ system: 'http://snomed.info/sct', code: '84114007', display: 'Heart failure' }] },
              subject,
            }),
          ];
        case 'MedicationRequest':
          return [
            r.key,
            entry({
              resourceType: 'MedicationRequest',
              id: 'active-1',
              status: 'active',
              intent: 'order',
              subject,
              medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '52769', display: 'milrinone' }] },
              dosageInstruction: [{ doseAndRate: [{ rateQuantity: { value: 0.375, unit: 'ug/kg/min', system: 'http://unitsofmeasure.org', code: 'ug/kg/min' } }] }],
            }),
          ];
        case 'AllergyIntolerance':
          return [r.key, entry({ resourceType: 'AllergyIntolerance', id: 'a1', patient: subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '91936005' }] } })];
        case 'ServiceRequest':
          return [r.key, entry({ resourceType: 'ServiceRequest', id: 's1', status: 'active', intent: 'order', subject, code: { text: 'Telemetry' } })];
        case 'MedicationAdministration':
          return [
            r.key,
            entry({
              resourceType: 'MedicationAdministration',
              id: 'ma1',
              status: 'in-progress',
              subject,
              request: { reference: 'MedicationRequest/active-1' },
              medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '52769', display: 'milrinone' }] },
              effectivePeriod: { start: '2026-11-20T08:00:00Z' },
            }),
          ];
      }
    }),
  );
  return { ...request, ...(Object.keys(prefetch).length > 0 && { prefetch }) };
}

// ---- structural mutations -------------------------------------------------------------------

type Path = (string | number)[];

/** Every path in a JSON value (capped: mutations only need somewhere to land). */
function allPaths(root: unknown): Path[] {
  const out: Path[] = [[]];
  const stack: [unknown, Path][] = [[root, []]];
  while (stack.length > 0 && out.length < 2000) {
    const [value, path] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    for (const [k, v] of Object.entries(value)) {
      const p = [...path, Array.isArray(value) ? Number(k) : k];
      out.push(p);
      stack.push([v, p]);
    }
  }
  return out;
}

function get(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined), root);
}

/** Sets own properties even for `__proto__` (as JSON.parse would create them). */
function setOwn(target: object, k: string | number, value: unknown): void {
  Object.defineProperty(target, k, { value, enumerable: true, writable: true, configurable: true });
}

function set(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = get(root, path.slice(0, -1));
  if (typeof parent === 'object' && parent !== null) setOwn(parent, path[path.length - 1]!, value);
  return root;
}

function remove(root: unknown, path: Path): unknown {
  if (path.length === 0) return {};
  const parent = get(root, path.slice(0, -1));
  const k = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof k === 'number') parent.splice(k, 1);
  else if (typeof parent === 'object' && parent !== null) delete (parent as Record<string, unknown>)[k];
  return root;
}

/**
 * Deep nesting is spliced into the JSON text (a marker string stands in for it until then), since
 * building and stringifying a deep object would overflow the test's own stack first.
 */
const deepMarker = (depth: number, asArray: boolean) => `\u0000deep:${depth}:${asArray ? 'a' : 'o'}`;
function toJsonText(body: unknown): string {
  const text = JSON.stringify(body) ?? 'null';
  return text.replace(/"\\u0000deep:(\d+):([ao])"/g, (_m, n: string, kind: string) => {
    const depth = Number(n);
    return kind === 'a' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"n":'.repeat(depth)}1${'}'.repeat(depth)}`;
  });
}

const RESOURCE_TYPES = ['Patient', 'Observation', 'Condition', 'Bundle', 'MedicationRequest', 'Medication', 'OperationOutcome', 'ServiceRequest', 'Foo', '', 'constructor', '__proto__'];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'resourceType', 'entry', 'coding', ''];

/** Mostly sizes the service must process, sometimes sizes it must refuse (body, depth and array limits). */
const sized = (min: number, usual: number, max: number) =>
  fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max: usual }) }, { weight: 1, arbitrary: fc.integer({ min: usual, max }) });

const wrongValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constant({}),
  fc.constant([]),
  fc.array(fc.jsonValue(), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }),
  fc.constantFrom('2026-13-45', 'NaN', '-0', '1e309', 'Patient/', '../../etc/passwd', '{{context.patientId}}', 'http://169.254.169.254/'),
);

type Mutation = { pick: number } & (
  | { kind: 'replace'; value: unknown }
  | { kind: 'delete' }
  | { kind: 'extra'; key: string; value: unknown }
  | { kind: 'retype' }
  | { kind: 'deep'; depth: number; asArray: boolean }
  | { kind: 'huge-string'; length: number }
  | { kind: 'pathological-string'; pattern: number }
  | { kind: 'huge-array'; length: number; item: unknown }
  | { kind: 'resource-type'; resourceType: string }
  | { kind: 'unwrap-array' }
  | { kind: 'condition-coding-object' }
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ pick: fc.nat(), kind: fc.constant('replace' as const), value: wrongValue }),
  fc.record({ pick: fc.nat(), kind: fc.constant('delete' as const) }),
  fc.record({ pick: fc.nat(), kind: fc.constant('extra' as const), key: fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string()), value: wrongValue }),
  fc.record({ pick: fc.nat(), kind: fc.constant('retype' as const) }),
  fc.record({ pick: fc.nat(), kind: fc.constant('deep' as const), depth: sized(10, 200, 100_000), asArray: fc.boolean() }),
  fc.record({ pick: fc.nat(), kind: fc.constant('huge-string' as const), length: sized(1_000, 100_000, 1_200_000) }),
  fc.record({ pick: fc.nat(), kind: fc.constant('pathological-string' as const), pattern: fc.nat() }),
  fc.record({ pick: fc.nat(), kind: fc.constant('huge-array' as const), length: sized(100, 1_500, 60_000), item: fc.oneof(fc.constant(0), fc.constant({}), fc.constant({ resource: { resourceType: 'Observation' } })) }),
  fc.record({ pick: fc.nat(), kind: fc.constant('resource-type' as const), resourceType: fc.constantFrom(...RESOURCE_TYPES) }),
  fc.record({ pick: fc.nat(), kind: fc.constant('unwrap-array' as const) }),
  fc.record({ pick: fc.nat(), kind: fc.constant('condition-coding-object' as const) }),
);

/**
 * 100 k characters of what super-linear string handling chokes on (issue 16): whitespace runs with and
 * without line breaks, nested parentheses and braces, unclosed placeholders, unit-like strings. Put in
 * place of a string the request already has, so they reach facts and cards (displays, codes, units, ids).
 */
const PATHOLOGICAL = [
  (n: number) => `Hypertrophic${' '.repeat(n)}cardiomyopathy`,
  (n: number) => `a${' \n\t'.repeat(n / 3)}b`,
  (n: number) => `${'('.repeat(n / 2)}${')'.repeat(n / 2 - 1)}`,
  (n: number) => '{'.repeat(n),
  (n: number) => '{{'.repeat(n / 2),
  (n: number) => `${'ug/'.repeat(n / 3)}kg/min`,
  (n: number) => `${'/'.repeat(n)}x`,
  (n: number) => `'${"\\'".repeat(n / 2)}`,
];

/** Applies one mutation in place. Generated values are cloned first: fast-check replays them while shrinking. */
function applyMutation(root: unknown, m: Mutation): unknown {
  const paths = allPaths(root);
  const path = paths[m.pick % paths.length]!;
  const current = get(root, path);
  switch (m.kind) {
    case 'replace':
      return set(root, path, structuredClone(m.value));
    case 'delete':
      return remove(root, path);
    case 'extra': {
      const target = typeof current === 'object' && current !== null ? current : root;
      if (typeof target === 'object' && target !== null) setOwn(target, m.key, structuredClone(m.value));
      return root;
    }
    case 'retype':
      // numbers as strings and strings as numbers
      return set(root, path, typeof current === 'number' ? String(current) : typeof current === 'string' ? Number(current) || current.length : current);
    case 'deep':
      return set(root, path, deepMarker(m.depth, m.asArray));
    case 'huge-string':
      return set(root, path, 'x'.repeat(m.length));
    case 'pathological-string': {
      const strings = paths.filter((p) => typeof get(root, p) === 'string');
      const target = strings.length > 0 ? strings[m.pick % strings.length]! : path;
      return set(root, target, PATHOLOGICAL[m.pattern % PATHOLOGICAL.length]!(100_000));
    }
    case 'huge-array': {
      // distinct items, so a later mutation inside one does not multiply across all of them
      const item = JSON.stringify(m.item);
      return set(root, path, Array.from({ length: m.length }, () => JSON.parse(item) as unknown));
    }
    case 'resource-type': {
      // the nearest object holding a resourceType, else the chosen spot
      const owner = paths.filter((p) => p[p.length - 1] === 'resourceType');
      return owner.length > 0 ? set(root, owner[m.pick % owner.length]!, m.resourceType) : set(root, path, { resourceType: m.resourceType });
    }
    case 'unwrap-array':
      return Array.isArray(current) ? set(root, path, current[0] ?? {}) : root;
    case 'condition-coding-object': {
      // a Condition whose code.coding is an object instead of an array, slipped into a prefetch Bundle
      const condition = { resourceType: 'Condition', id: 'bad', code: { coding: { system: 'http://snomed.info/sct', code: '84114007' } }, subject: { reference: `Patient/${PATIENT_ID}` } };
      const prefetch = get(root, ['prefetch']);
      const bundle = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: condition }] };
      if (typeof prefetch === 'object' && prefetch !== null && !Array.isArray(prefetch)) {
        const keys = Object.keys(prefetch);
        setOwn(prefetch, keys.find((k) => k.startsWith('condition')) ?? keys[m.pick % Math.max(1, keys.length)] ?? 'conditions', bundle);
        return root;
      }
      return set(root, ['prefetch'], { conditions: bundle });
    }
  }
}

describe(`hostile input (${RUNS} cases per property)`, () => {
  it('mutated valid requests never get a 5xx and never crash the service', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...HOOKS),
        fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...HOOKS) }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (hook, otherService, mutations) => {
          const body = mutations.reduce<unknown>(applyMutation, richRequest(hook));
          checkAnswer(await send(`/cds-services/${SERVICES[otherService ?? hook]}`, toJsonText(body)));
        },
      ),
      { numRuns: RUNS },
    );
    await expectStillHealthy();
  }, 600_000);

  it('raw bytes, truncated JSON and invalid UTF-8 never get a 5xx', async () => {
    const valid = (hook: Hook) => Buffer.from(JSON.stringify(richRequest(hook)), 'utf8');
    const INVALID_UTF8 = [[0xff], [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xed, 0xa0, 0x80], [0xf0, 0x28, 0x8c, 0x28], [0xc0, 0xaf], [0xfe, 0xfe, 0xff, 0xff]];
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 4096 }),
      fc.tuple(fc.constantFrom(...HOOKS), fc.nat()).map(([hook, cut]) => {
        const b = valid(hook);
        return b.subarray(0, cut % b.length);
      }),
      fc.tuple(fc.constantFrom(...HOOKS), fc.nat(), fc.constantFrom(...INVALID_UTF8)).map(([hook, at, bad]) => {
        const b = valid(hook);
        const i = at % b.length;
        return Buffer.concat([b.subarray(0, i), Buffer.from(bad), b.subarray(i)]);
      }),
      fc.tuple(fc.constantFrom(...HOOKS), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([hook, flips]) => {
        const b = Buffer.from(valid(hook));
        for (const [at, byte] of flips) b[at % b.length] = byte;
        return b;
      }),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; charset=nonsense',
      'application/fhir+json',
      'text/plain',
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...HOOKS), bytes, contentType, async (hook, body, type) => {
        checkAnswer(await send(`/cds-services/${SERVICES[hook]}`, body, { 'content-type': type }));
      }),
      { numRuns: RUNS },
    );
    await expectStillHealthy();
  }, 600_000);

  it('junk and forged tokens get a 401, never a 5xx', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claimValue = fc.oneof(fc.jsonValue(), fc.constantFrom(BASE, ISS, `${BASE}/cds-services`, 0, -1, 1e308, ''));
    const authorization = fc.oneof(
      fc.string(),
      fc.string().map((s) => `Bearer ${s}`),
      fc.tuple(fc.dictionary(fc.constantFrom('alg', 'kid', 'typ', 'jku', 'crit', 'b64', 'x5u', 'jwk'), claimValue), fc.dictionary(fc.string(), claimValue), fc.string()).map(
        ([h, p, s]) => `Bearer ${b64(h)}.${b64(p)}.${Buffer.from(s).toString('base64url')}`,
      ),
      fc.record({ iss: claimValue, aud: claimValue, exp: claimValue, iat: claimValue, jti: claimValue, tenant: claimValue }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(authorization, async (auth) => {
        let header: string;
        if (typeof auth === 'string') header = auth;
        else {
          // a genuinely signed token with arbitrary claims (JWT claims must be an object)
          try {
            header = `Bearer ${await signToken(key, auth as Record<string, unknown>)}`;
          } catch {
            return; // jose refuses to sign non-finite numeric dates; nothing to send
          }
        }
        if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(header)) return; // not expressible as an HTTP header value
        const res = await fetch(`${origin}/cds-services`, { headers: { authorization: header } });
        const body = (await res.json()) as unknown;
        expect(res.status, JSON.stringify(body)).toBeLessThan(500);
        if (res.status !== 200) expect(body).toMatchObject({ error: 'unauthorized', reason: expect.any(String) });
      }),
      { numRuns: RUNS },
    );
    await expectStillHealthy();
  }, 600_000);
});
