import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import nock from 'nock';
import { BASE, EHR_FHIR, ISS, PATIENT_FAMILY, PATIENT_ID, SERVICE_PATH, makeAuthApp, newKey, signToken, validRequest } from './security-helpers.js';

const ACCESS_TOKEN = 'ehr-access-token-9c4e2f71d3';
const GIVEN = 'Ottoline';

afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('logs hold no secret and no patient data', () => {
  it('at trace level, over success, 4xx, 412 and FHIR-fetching paths', async () => {
    const key = await newKey('ES384', 'log-key');
    const { app, ruleset, logs } = await makeAuthApp(
      [{ iss: ISS, jwks: { keys: [key.publicJwk] }, fhirServers: [EHR_FHIR] }],
      { BODY_LIMIT_BYTES: 64 * 1024 },
      { logLevel: 'trace' },
    );
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    // The EHR answers with the patient's name and id in every resource, and fails some searches with
    // an OperationOutcome that quotes the patient: none of it may reach a log line.
    nock('https://ehr.example.org')
      .persist()
      .get(/.*/)
      .reply((uri) => {
        if (uri.includes('/Patient/')) return [200, { resourceType: 'Patient', id: PATIENT_ID, name: [{ family: PATIENT_FAMILY, given: [GIVEN] }] }];
        if (uri.includes('Condition')) {
          return [500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: `failed for ${PATIENT_FAMILY} ${PATIENT_ID}` }] }];
        }
        return [200, { resourceType: 'Bundle', type: 'searchset', total: 0 }];
      });

    const fhirAuthorization = { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds', patient: PATIENT_ID };
    const full = () => validRequest('order-sign', ruleset, { fhirServer: EHR_FHIR, fhirAuthorization });
    const { prefetch: _p, ...noPrefetch } = full();
    const tokens: string[] = [];
    const send = async (body: unknown, claims: Record<string, unknown> = {}, path = SERVICE_PATH) => {
      const token = await signToken(key, { aud: `${BASE}${path}`, ...claims });
      tokens.push(token);
      return request(app).post(path).set('Authorization', `Bearer ${token}`).send(body as object);
    };

    const statuses = [
      (await send(full())).status, // success from prefetch
      (await send(noPrefetch)).status, // success or 412 from FHIR fetching (with a failing search)
      (await send({ ...full(), hookInstance: PATIENT_ID })).status, // 400 quoting nothing
      (await send({ ...full(), context: { ...(full().context as object), patientId: `Patient/${PATIENT_ID}` } })).status, // 400
      (await send(full(), { aud: `${BASE}/cds-services/${PATIENT_ID}` })).status, // 401 bad-audience
      (await send({ ...full(), fhirServer: `https://evil.example.com/${PATIENT_ID}` })).status, // 403
      (await send({ ...full(), extension: { pad: `${PATIENT_FAMILY} `.repeat(5000) } })).status, // 413
      (await send(full(), {}, `/cds-services/${PATIENT_ID}`)).status, // 404 with the id in the path
      (await send({ ...noPrefetch, fhirServer: undefined, fhirAuthorization: undefined })).status, // 412: nothing to fetch from
    ];
    expect(statuses).toEqual([200, expect.any(Number), 400, 400, 401, 403, 413, 404, 412]);
    expect([200, 412]).toContain(statuses[1]);

    const secrets = [ACCESS_TOKEN, PATIENT_ID, PATIENT_FAMILY, GIVEN, ...tokens, ...tokens.map((t) => t.split('.')[2]!)];
    expect(logs.length).toBeGreaterThanOrEqual(statuses.length);
    for (const line of logs) {
      for (const secret of secrets) expect(line, 'a log line leaks a secret or patient data').not.toContain(secret);
    }
  });
});
