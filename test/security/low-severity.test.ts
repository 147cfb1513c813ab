import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import nock from 'nock';
import { makeApp, useNockPerTest } from '../helpers.js';
import { EHR_FHIR, ISS, PATIENT_ID, SERVICE_PATH, makeAuthApp, newKey, signToken, validRequest } from './security-helpers.js';

/** Issue 16, low severity items, each replayed against the real app over HTTP. */

describe('a body that does not match its Content-Encoding (low 9)', () => {
  it('answers 400 JSON with a clear message and logs no unhandled error', async () => {
    const { app, logs, ruleset } = await makeApp();
    const valid = Buffer.from(JSON.stringify(validRequest('order-sign', ruleset)));
    const cases: [string, Buffer][] = [
      ['gzip', Buffer.from('not gzip at all')],
      ['gzip', gzipSync(valid).subarray(0, 40)],
      ['deflate', Buffer.from('garbage')],
      ['br', Buffer.from('garbage')],
    ];
    for (const [encoding, body] of cases) {
      const res = await request(app)
        .post('/cds-services/inotrope-order-sign')
        .set('content-type', 'application/json')
        .set('content-encoding', encoding)
        .send(body);
      expect(res.status, encoding).toBe(400);
      expect(res.body).toEqual({ error: 'invalid-request', message: expect.stringContaining('Content-Encoding') });
    }
    // an unknown encoding stays 415
    const unknown = await request(app).post('/cds-services/inotrope-order-sign').set('content-type', 'application/json').set('content-encoding', 'nonsense').send(valid);
    expect(unknown.status).toBe(415);
    expect(logs.filter((l) => l.includes('unhandled error'))).toEqual([]);
  });
});

describe('encoded slashes and dot segments in FHIR paths (low 7)', () => {
  useNockPerTest();
  const fhirAuthorization = { access_token: 'ehr-token-7', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' };

  it('refuses a fhirServer that leaves the allowlisted base once decoded, and sends nothing', async () => {
    const key = await newKey('ES256', 'k7');
    const { app, ruleset } = await makeAuthApp([{ iss: ISS, jwks: { keys: [key.publicJwk] }, fhirServers: [EHR_FHIR] }]);
    const hits: string[] = [];
    nock('https://ehr.example.org').persist().get(/.*/).reply((uri) => (hits.push(uri), [200, {}]));
    const { prefetch: _none, ...body } = validRequest('order-sign', ruleset);
    for (const fhirServer of [`${EHR_FHIR}/..%2fadmin`, `${EHR_FHIR}/..%2Fadmin`, `${EHR_FHIR}/..%5cadmin`, `${EHR_FHIR}/%2e%2e%2fadmin`]) {
      const res = await request(app)
        .post(SERVICE_PATH)
        .set('Authorization', `Bearer ${await signToken(key)}`)
        .send({ ...body, fhirServer, fhirAuthorization });
      expect(res.status, fhirServer).toBe(403);
    }
    expect(hits).toEqual([]);
  });

  it('follows neither a next link nor a redirect whose decoded path leaves the base', async () => {
    const { app, ruleset } = await makeApp({ FHIR_SERVER_ALLOWLIST: [EHR_FHIR] });
    const paged = ruleset.requirements('order-sign').find((r) => r.paging === 'all')!;
    expect(paged).toBeDefined();
    const hits: string[] = [];
    nock('https://ehr.example.org')
      .persist()
      .get(/.*/)
      .reply((uri) => {
        hits.push(uri);
        // every search is redirected to an encoded climb out of /fhir
        return [302, '', { location: '/fhir/..%5cadmin/secrets' }];
      });
    const request_ = validRequest('order-sign', ruleset) as { prefetch: Record<string, unknown> };
    request_.prefetch[paged.key] = { resourceType: 'Bundle', type: 'searchset', entry: [], link: [{ relation: 'next', url: `${EHR_FHIR}/..%2fadmin/${paged.resourceType}?page=2` }] };
    const { [ruleset.requirements('order-sign').find((r) => r.paging !== 'all' && r.resourceType !== 'Patient')!.key]: _dropped, ...prefetch } = request_.prefetch;
    const res = await request(app).post(SERVICE_PATH).send({ ...request_, prefetch, fhirServer: EHR_FHIR, fhirAuthorization });
    expect(res.status).toBe(200);
    expect(hits.length).toBeGreaterThan(0); // the dropped key was searched, and redirected
    expect(hits.filter((h) => h.includes('admin'))).toEqual([]);
    expect(JSON.stringify(res.body)).toContain('redirected to another address, not followed');
    expect(JSON.stringify(res.body)).toContain('a further page could not be read');
  });
});

describe('records about another patient (low 8)', () => {
  it('are left out, with a data-quality card; the cards about this patient still come', async () => {
    const { app, ruleset } = await makeApp();
    const body = validRequest('order-sign', ruleset) as { prefetch: Record<string, unknown> };
    const other = { reference: 'Patient/someone-else' };
    const hocm = (id: string, subject: object) => ({
      resourceType: 'Condition',
      id,
      subject,
      code: { coding: [{ system: 'http://snomed.info/sct', code: '233873004', display: `Hypertrophic cardiomyopathy (${id})` }] },
    });
    for (const r of ruleset.requirements('order-sign')) {
      if (r.resourceType === 'Condition') {
        body.prefetch[r.key] = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: hocm('theirs', other) }, { resource: hocm('ours', { reference: `Patient/${PATIENT_ID}` }) }] };
      }
      if (r.resourceType === 'Patient' && !r.template.includes('?')) {
        body.prefetch[r.key] = { ...(body.prefetch[r.key] as object), id: 'someone-else' };
      }
    }
    const res = await request(app).post('/cds-services/inotrope-order-sign').send(body);
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('Hypertrophic cardiomyopathy (theirs)');
    expect(text).toContain('Hypertrophic cardiomyopathy (ours)');
    expect(text).toContain('about another patient than the one in context');
  });
});
