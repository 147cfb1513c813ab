import { describe, expect, it } from 'vitest';
import nock from 'nock';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataUnavailableError } from '../../src/patient-data/resolve.js';
import type { DataGap, ResolvedData } from '../../src/shared/patient-data.js';
import { createLogger } from '../../src/logger.js';
import { logCapture, useNockPerTest } from '../helpers.js';
import {
  resolvePatientData,
  activeDobutamine,
  CHART,
  chartServer,
  dobutamineMedication,
  FHIR,
  heartFailure,
  options,
  orderSign,
  ORIGIN,
  PATHS,
  PATIENT_ID,
  patient,
  patientView,
  potassium,
  REQUIREMENTS,
  searchset,
  TOKEN,
} from './fixtures.js';

const OO = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: 'timeout upstream' }] };

useNockPerTest();

const gap = (r: ResolvedData, key: string): DataGap | undefined => r.data.gaps.find((g) => g.key === key);
const record = (r: ResolvedData, key: string) => r.fetches.find((f) => f.key === key && f.resourceType !== 'Medication');

describe('prefetch resolution (CDS Hooks 2.0, "Providing FHIR resources to a CDS Service")', () => {
  it('uses a complete prefetch as is and contacts nothing', async () => {
    const r = await resolvePatientData(patientView({ prefetch: CHART }), REQUIREMENTS, options());
    expect(r.data.gaps).toEqual([]);
    expect(r.data.patient?.id).toBe(PATIENT_ID);
    expect(r.fetches.map((f) => [f.key, f.source, f.outcome, f.requests])).toEqual([
      ['patient', 'prefetch', 'ok', 0],
      ['medications', 'prefetch', 'ok', 0],
      ['conditions', 'prefetch', 'ok', 0],
      ['obs-potassium', 'prefetch', 'ok', 0],
    ]);
  });

  it('takes null as "looked, found nothing": not fetched again, no gap', async () => {
    const prefetch = { ...CHART, conditions: null };
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: prefetch }), REQUIREMENTS, options());
    expect(r.data.conditions).toEqual([]);
    expect(r.data.gaps).toEqual([]);
    expect(record(r, 'conditions')).toMatchObject({ source: 'prefetch', outcome: 'null', requests: 0 });
  });

  it('reads the rest and names the missing keys as gaps when a key is absent and there is no fhirServer (partial data beats 412)', async () => {
    const { conditions: _c, 'obs-potassium': _o, ...prefetch } = CHART;
    const r = await resolvePatientData(patientView({ prefetch }), REQUIREMENTS, options());
    expect(r.data.patient?.id).toBe(patient.id);
    expect(r.data.gaps).toEqual([
      { key: 'conditions', resourceType: 'Condition', reason: 'unavailable', message: expect.stringMatching(/^\S.* \(not sent with the request, and no FHIR server was given to read it from\)$/) },
      { key: 'obs-potassium', resourceType: 'Observation', reason: 'unavailable', message: expect.stringContaining('not sent with the request') },
    ]);
    expect(record(r, 'conditions')).toMatchObject({ source: 'prefetch', outcome: 'unavailable', requests: 0 });
  });

  it('answers 412 when every key is absent and there is no fhirServer: nothing usable about the patient', async () => {
    const err = await resolvePatientData(patientView({}), REQUIREMENTS, options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataUnavailableError);
    expect((err as DataUnavailableError).message).toBe('No usable patient data could be obtained');
  });

  it('fetches absent keys from fhirServer with the bearer token, and only those', async () => {
    const scope = chartServer(['conditions', 'obs-potassium']);
    const { conditions: _c, 'obs-potassium': _o, ...prefetch } = CHART;
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: prefetch }), REQUIREMENTS, options());
    expect(scope.isDone()).toBe(true);
    expect(r.data.gaps).toEqual([]);
    expect(r.data.conditions.map((c) => c.id)).toEqual(['cond-hf']);
    expect(record(r, 'conditions')).toMatchObject({ source: 'fhir-server', outcome: 'ok', requests: 1 });
    expect(record(r, 'patient')).toMatchObject({ source: 'prefetch' });
  });

  it.each([
    ['an OperationOutcome', OO],
    ['a Bundle holding an error OperationOutcome', searchset([OO])],
    ['a string (the spec example\'s "user": "123")', '123'],
    ['a resource of the wrong type', { resourceType: 'Practitioner', id: 'x' }],
  ])('fetches a key whose prefetch value is %s', async (_name, value) => {
    const scope = chartServer(['conditions']);
    const r = await resolvePatientData(
      patientView({ fhirServer: FHIR, prefetch: { ...CHART, conditions: value } }),
      REQUIREMENTS,
      options(),
    );
    expect(scope.isDone()).toBe(true);
    expect(r.data.gaps).toEqual([]);
    expect(r.data.conditions).toHaveLength(1);
  });

  it('keeps a search Bundle whose OperationOutcome entry only warns', async () => {
    const warning = { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'informational' }] };
    const prefetch = { ...CHART, conditions: searchset([CHART_CONDITION(), warning]) };
    const r = await resolvePatientData(patientView({ prefetch }), REQUIREMENTS, options());
    expect(r.data.gaps).toEqual([]);
    expect(r.data.conditions).toHaveLength(1);
  });

  it('without fhirServer, an OperationOutcome or non-resource in prefetch is a gap and the rest is used', async () => {
    const prefetch = { ...CHART, conditions: OO, 'obs-potassium': 'n/a' };
    const r = await resolvePatientData(patientView({ prefetch }), REQUIREMENTS, options());
    expect(r.data.patient?.id).toBe(PATIENT_ID);
    expect(gap(r, 'conditions')).toEqual({
      key: 'conditions',
      resourceType: 'Condition',
      reason: 'operation-outcome',
      message: 'Conditions (the EHR sent an error instead of the data)',
    });
    expect(gap(r, 'obs-potassium')).toMatchObject({ reason: 'invalid-response', message: expect.stringContaining('Potassium observations') });
  });

  it('answers 412 when no key is usable (every prefetch value is an error and there is no server)', async () => {
    const prefetch = { patient: OO, medications: OO, conditions: OO, 'obs-potassium': OO };
    const err = await resolvePatientData(patientView({ prefetch }), REQUIREMENTS, options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataUnavailableError);
    expect((err as DataUnavailableError).message).toBe('No usable patient data could be obtained');
    expect((err as DataUnavailableError).details).toHaveLength(4);
  });

  it('does not fetch a template whose token has no value (no encounter in context)', async () => {
    const byEncounter = {
      key: 'encounter-obs',
      label: 'Observations of this encounter',
      template: 'Observation?encounter={{context.encounterId}}',
      resourceType: 'Observation' as const,
      paging: 'all' as const,
    };
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: CHART }), [...REQUIREMENTS, byEncounter], options());
    expect(record(r, 'encounter-obs')).toMatchObject({ outcome: 'null', requests: 0 });
    expect(r.data.gaps).toEqual([]);
  });

  it('fetches from an open server without an Authorization header when fhirAuthorization is absent (A5)', async () => {
    const scope = chartServer(['conditions'], { auth: false });
    const { conditions: _c, ...prefetch } = CHART;
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, token: false, prefetch: prefetch }), REQUIREMENTS, options());
    expect(scope.isDone()).toBe(true);
    expect(r.data.gaps).toEqual([]);
  });
});

describe('fetching from the FHIR server', () => {
  it('fetches all keys concurrently: three searches delayed 200 ms each finish well under 600 ms', async () => {
    const scope = chartServer(['conditions', 'obs-potassium', 'medications'], { delayMs: 200 });
    const started = performance.now();
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: { patient } }), REQUIREMENTS, options());
    const elapsed = performance.now() - started;
    expect(scope.isDone()).toBe(true);
    expect(elapsed).toBeLessThan(450);
    expect(r.data.conditions).toHaveLength(1);
  });

  it('follows Bundle.link[next] for paging "all" keys', async () => {
    const scope = nock(ORIGIN)
      .get('/fhir/Condition')
      .query({ patient: PATIENT_ID })
      .reply(200, searchset([condition('c1')], `${FHIR}?_getpages=abc&page=2`))
      .get('/fhir')
      .query({ _getpages: 'abc', page: '2' })
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .reply(200, searchset([condition('c2')], `${FHIR}?_getpages=abc&page=3`))
      .get('/fhir')
      .query({ _getpages: 'abc', page: '3' })
      .reply(200, searchset([condition('c3')]));
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }), REQUIREMENTS, options());
    expect(scope.isDone()).toBe(true);
    expect(r.data.conditions.map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    expect(record(r, 'conditions')).toMatchObject({ outcome: 'ok', requests: 3 });
    expect(r.data.gaps).toEqual([]);
  });

  it('stops at the page cap and says the result was truncated', async () => {
    const scope = nock(ORIGIN)
      .get('/fhir/Condition')
      .query(true)
      .reply(200, searchset([condition('c1')], `${FHIR}/Condition?page=2`))
      .get('/fhir/Condition')
      .query({ page: '2' })
      .reply(200, searchset([condition('c2')], `${FHIR}/Condition?page=3`));
    const r = await resolvePatientData(
      patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }),
      REQUIREMENTS,
      options({ maxPages: 2 }),
    );
    expect(scope.isDone()).toBe(true);
    expect(r.data.conditions.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(gap(r, 'conditions')).toEqual({
      key: 'conditions',
      resourceType: 'Condition',
      reason: 'truncated',
      message: 'Conditions (incomplete, more than 2 pages of results)',
    });
    expect(record(r, 'conditions')).toMatchObject({ outcome: 'truncated', requests: 2 });
  });

  it('caps the resources kept per search', async () => {
    const prefetch = { ...CHART, conditions: searchset([condition('c1'), condition('c2'), condition('c3')]) };
    const r = await resolvePatientData(patientView({ prefetch }), REQUIREMENTS, options({ maxResources: 2 }));
    expect(r.data.conditions.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(gap(r, 'conditions')).toMatchObject({ reason: 'truncated', message: expect.stringContaining('more than 2 results') });
  });

  it('follows next links of a paginated prefetch Bundle with the token (F4)', async () => {
    const scope = chartServer([]).get('/fhir/Condition').query({ page: '2' }).reply(200, searchset([condition('c2')]));
    const prefetch = { ...CHART, conditions: searchset([condition('c1')], `${FHIR}/Condition?page=2`) };
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch }), REQUIREMENTS, options());
    expect(scope.isDone()).toBe(true);
    expect(r.data.conditions.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(record(r, 'conditions')).toMatchObject({ source: 'prefetch', outcome: 'ok', requests: 1 });
  });

  it('reads only the first page of a "latest" search', async () => {
    const prefetch = { ...CHART, 'obs-potassium': searchset([potassium('k-9', 4.1, '2026-11-21T00:00:00Z')], `${FHIR}/Observation?page=2`) };
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch }), REQUIREMENTS, options());
    expect(r.data.gaps).toEqual([]);
    expect(record(r, 'obs-potassium')).toMatchObject({ requests: 0 });
  });

  describe('a "latest" key holds the newest _count its template asks for, whatever the EHR sent', () => {
    // The fixture template asks for `_sort=-date&_count=50`; this EHR ignores both: 120 potassiums, oldest first.
    const hours = (h: number) => new Date(Date.UTC(2026, 10, 16) + h * 3_600_000).toISOString();
    const many = Array.from({ length: 120 }, (_v, i) => potassium(`k-${i}`, 4, hours(i)));
    const undated = potassium('k-undated', 9.9, 'not a date');
    const newest50 = many.slice(70).reverse().map((o) => o.id);
    const ids = (r: ResolvedData) => r.data.observationsByCode.get('http://loinc.org|6298-4')?.map((v) => v.observation.id);

    // The newest value may be missing when a server ignores the page size: the clinician hears so (issue 16).
    const ignoredPageSize = expect.objectContaining({ key: 'obs-potassium', reason: 'truncated', message: expect.stringMatching(/ignored the page size \(50 asked, 1\d\d sent\)/) });

    it('from prefetch: the 50 newest, newest first, an undated one ranking last, and a gap saying the page size was ignored', async () => {
      const prefetch = { ...CHART, 'obs-potassium': searchset([undated, ...many]) };
      const r = await resolvePatientData(patientView({ prefetch }), REQUIREMENTS, options());
      expect(ids(r)).toEqual(newest50);
      expect(r.data.gaps).toEqual([ignoredPageSize]);
    });

    it('from an EHR that sorted but ignored _count: its first 50', async () => {
      const prefetch = { ...CHART, 'obs-potassium': searchset([patient, ...[...many].reverse(), undated]) };
      const r = await resolvePatientData(patientView({ prefetch }), REQUIREMENTS, options());
      expect(ids(r)).toEqual(newest50);
      expect(r.data.gaps).toEqual([ignoredPageSize]);
    });

    it('from the FHIR server: the same 50', async () => {
      const scope = chartServer([]).get(PATHS['obs-potassium']!.path).query(PATHS['obs-potassium']!.query!).reply(200, searchset([...many, undated]));
      const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'obs-potassium') }), REQUIREMENTS, options());
      expect(scope.isDone()).toBe(true);
      expect(ids(r)).toEqual(newest50);
      expect(r.data.gaps).toEqual([ignoredPageSize]);
    });

    it('keeps everything when the EHR sent no more than asked, including what cannot be read (a gap)', async () => {
      const prefetch = { ...CHART, 'obs-potassium': searchset([undated, ...many.slice(0, 49)]) };
      const r = await resolvePatientData(patientView({ prefetch }), REQUIREMENTS, options());
      expect(ids(r)).toHaveLength(49);
      expect(gap(r, 'obs-potassium')).toMatchObject({ reason: 'malformed-resource', message: expect.stringContaining('no date') });
    });

    it('enforces nothing for a template without _count', async () => {
      const uncounted = REQUIREMENTS.map((q) => (q.key === 'obs-potassium' ? { ...q, template: q.template.replace('&_count=50', '') } : q));
      const r = await resolvePatientData(patientView({ prefetch: { ...CHART, 'obs-potassium': searchset(many) } }), uncounted, options());
      expect(ids(r)).toHaveLength(120);
    });
  });

  it('never follows a next link to another host: the token stays home and the result is marked truncated', async () => {
    const elsewhere = nock('https://evil.test').get(/.*/).reply(200, searchset([condition('c9')]));
    const prefetch = { ...CHART, conditions: searchset([condition('c1')], 'https://evil.test/fhir/Condition?page=2') };
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch }), REQUIREMENTS, options());
    expect(elsewhere.isDone()).toBe(false);
    expect(r.data.conditions.map((c) => c.id)).toEqual(['c1']);
    expect(gap(r, 'conditions')).toMatchObject({ reason: 'truncated', message: expect.stringContaining('outside the FHIR server') });
  });

  it('times a hanging key out within the budget, and the other keys still arrive', async () => {
    const scope = chartServer(['conditions']);
    nock(ORIGIN).get(PATHS['obs-potassium']!.path).query(true).delay(2000).reply(200, CHART['obs-potassium']!);
    const started = performance.now();
    const r = await resolvePatientData(
      patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions', 'obs-potassium') }),
      REQUIREMENTS,
      options({ budgetMs: 250, requestTimeoutMs: 150 }),
    );
    expect(performance.now() - started).toBeLessThan(400);
    expect(scope.isDone()).toBe(true);
    expect(r.data.conditions).toHaveLength(1);
    expect(gap(r, 'obs-potassium')).toEqual({
      key: 'obs-potassium',
      resourceType: 'Observation',
      reason: 'timeout',
      message: 'Potassium observations (the FHIR server did not answer in time)',
    });
  });

  it('cuts off a server that sends headers and then stalls the body (a real socket on 127.0.0.1)', async () => {
    const stalled = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.write('{"resourceType":"Bundle","entry":[');
      req.socket.setTimeout(5000);
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/fhir`;
    try {
      const started = performance.now();
      const r = await resolvePatientData(
        patientView({ fhirServer: base, prefetch: without(CHART, 'conditions') }),
        REQUIREMENTS,
        options({ fhirServerAllowlist: [base], budgetMs: 300, requestTimeoutMs: 200 }),
      );
      expect(performance.now() - started).toBeLessThan(450);
      expect(gap(r, 'conditions')).toMatchObject({ reason: 'timeout' });
    } finally {
      stalled.closeAllConnections();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  it('answers 412 within the budget when the server hangs and nothing was prefetched', async () => {
    nock(ORIGIN).get(/.*/).times(10).delay(5000).reply(200, {});
    const started = performance.now();
    const err = await resolvePatientData(patientView({ fhirServer: FHIR }), REQUIREMENTS, options({ budgetMs: 200 })).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(400);
    expect(err).toBeInstanceOf(DataUnavailableError);
    expect((err as DataUnavailableError).details).toContain('Patient record (the FHIR server did not answer in time)');
  });

  it.each([
    [401, 'unauthorized', 'the FHIR server refused access, HTTP 401'],
    [403, 'unauthorized', 'the FHIR server refused access, HTTP 403'],
    [404, 'not-found', 'the FHIR server did not find it, HTTP 404'],
    [400, 'fetch-failed', 'the FHIR server rejected the request, HTTP 400'],
    [500, 'fetch-failed', 'the FHIR server failed, HTTP 500'],
  ])('turns HTTP %i into a %s gap, sent once and not retried', async (status, reason, why) => {
    const failing = nock(ORIGIN).get('/fhir/Condition').query(true).once().reply(status, OO);
    const r = await resolvePatientData(
      patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }),
      REQUIREMENTS,
      options(),
    );
    expect(failing.isDone()).toBe(true);
    expect(gap(r, 'conditions')).toEqual({ key: 'conditions', resourceType: 'Condition', reason, message: `Conditions (${why})` });
    expect(record(r, 'conditions')).toMatchObject({ source: 'fhir-server', outcome: reason, requests: 1 });
  });

  it('retries once on 503 when the budget allows', async () => {
    const scope = nock(ORIGIN)
      .get('/fhir/Condition')
      .query(true)
      .reply(503, '', { 'retry-after': '0' })
      .get('/fhir/Condition')
      .query(true)
      .reply(200, CHART.conditions!);
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }), REQUIREMENTS, options());
    expect(scope.isDone()).toBe(true);
    expect(r.data.gaps).toEqual([]);
    expect(record(r, 'conditions')).toMatchObject({ outcome: 'ok', requests: 2 });
  });

  it('retries a 429 only once, and not at all when Retry-After exceeds the budget', async () => {
    const twice = nock(ORIGIN).get('/fhir/Condition').query(true).twice().reply(429);
    const r1 = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }), REQUIREMENTS, options());
    expect(twice.isDone()).toBe(true);
    expect(record(r1, 'conditions')).toMatchObject({ outcome: 'fetch-failed', requests: 2 });

    nock.cleanAll();
    const once = nock(ORIGIN).get('/fhir/Condition').query(true).once().reply(429, '', { 'retry-after': '30' });
    const r2 = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }), REQUIREMENTS, options());
    expect(once.isDone()).toBe(true);
    expect(gap(r2, 'conditions')).toMatchObject({ reason: 'fetch-failed', message: 'Conditions (the FHIR server was busy, HTTP 429)' });
    expect(record(r2, 'conditions')).toMatchObject({ requests: 1 });
  });

  it.each([
    ['a body that is not JSON', '<html>Service Unavailable</html>', 'invalid-response', "the FHIR server's answer was not JSON"],
    ['JSON that is not a resource', '[1,2]', 'invalid-response', "the FHIR server's answer was not a FHIR resource"],
    ['an OperationOutcome with 200', JSON.stringify(OO), 'operation-outcome', 'the FHIR server answered with an error'],
  ])('reports %s as a gap', async (_name, body, reason, why) => {
    nock(ORIGIN).get('/fhir/Condition').query(true).reply(200, body, { 'content-type': 'application/fhir+json' });
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }), REQUIREMENTS, options());
    expect(gap(r, 'conditions')).toEqual({ key: 'conditions', resourceType: 'Condition', reason, message: `Conditions (${why})` });
  });

  it('reports an answer larger than maxResponseBytes as a gap and keeps the other keys', async () => {
    const big = searchset(Array.from({ length: 40 }, () => heartFailure));
    expect(JSON.stringify(big).length).toBeGreaterThan(2_048);
    nock(ORIGIN).get('/fhir/Condition').query(true).reply(200, JSON.stringify(big), { 'content-type': 'application/fhir+json' });
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }), REQUIREMENTS, options({ maxResponseBytes: 2_048 }));
    expect(gap(r, 'conditions')).toEqual({
      key: 'conditions',
      resourceType: 'Condition',
      reason: 'invalid-response',
      message: "Conditions (the FHIR server's answer was larger than 2048 bytes)",
    });
    expect(r.data.gaps).toHaveLength(1);
  });

  it('never follows a redirect to another host (the token is not sent there)', async () => {
    nock(ORIGIN).get('/fhir/Condition').query(true).reply(302, '', { location: 'https://attacker.test/collect' });
    const attacker = nock('https://attacker.test').get(/.*/).reply(200, CHART.conditions!);
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }), REQUIREMENTS, options());
    expect(attacker.isDone()).toBe(false);
    expect(gap(r, 'conditions')).toMatchObject({ reason: 'fetch-failed', message: expect.stringContaining('redirected to another address, not followed') });
  });

  it('follows a redirect within the FHIR server, with the token', async () => {
    const scope = chartServer([]).get('/fhir/Condition').query(true).reply(301, '', { location: '/fhir/r4/Condition?patient=x' });
    scope.get('/fhir/r4/Condition').query({ patient: 'x' }).reply(200, CHART.conditions!);
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }), REQUIREMENTS, options());
    expect(scope.isDone()).toBe(true);
    expect(r.data.gaps).toEqual([]);
    expect(record(r, 'conditions')).toMatchObject({ requests: 2 });
  });

  it('reports a server that cannot be reached', async () => {
    nock(ORIGIN)
      .get('/fhir/Condition')
      .query(true)
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: without(CHART, 'conditions') }), REQUIREMENTS, options());
    expect(gap(r, 'conditions')).toMatchObject({ reason: 'fetch-failed', message: 'Conditions (the FHIR server could not be reached)' });
  });
});

describe('the FHIR server allowlist', () => {
  it('never fetches from a server not on the allowlist: the missing key is a gap, the rest is read, nothing is sent to it', async () => {
    const outside = nock('https://other-ehr.test').get(/.*/).times(10).reply(200, patient);
    const r = await resolvePatientData(
      patientView({ fhirServer: 'https://other-ehr.test/fhir', prefetch: without(CHART, 'conditions') }),
      REQUIREMENTS,
      options(),
    );
    expect(r.data.gaps).toEqual([
      { key: 'conditions', resourceType: 'Condition', reason: 'unavailable', message: expect.stringContaining("the FHIR server is not on this service's allowlist") },
    ]);
    expect(r.data.patient?.id).toBe(patient.id);
    expect(outside.isDone()).toBe(false);
    expect(outside.pendingMocks()).toHaveLength(1);
  });

  it('answers 412 when nothing was prefetched and the server is not on the allowlist, and sends nothing to it', async () => {
    const outside = nock('https://other-ehr.test').get(/.*/).times(10).reply(200, patient);
    const err = await resolvePatientData(patientView({ fhirServer: 'https://other-ehr.test/fhir' }), REQUIREMENTS, options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataUnavailableError);
    expect(outside.isDone()).toBe(false);
  });

  it('proceeds without contacting an unlisted server when prefetch satisfies every key', async () => {
    const r = await resolvePatientData(patientView({ fhirServer: 'https://other-ehr.test/fhir', prefetch: CHART }), REQUIREMENTS, options());
    expect(r.data.gaps).toEqual([]);
  });

  it('matches the allowlist on the base path: a sibling path is outside', async () => {
    const r = await resolvePatientData(
      patientView({ fhirServer: 'https://ehr.test/fhir-admin', prefetch: without(CHART, 'conditions') }),
      REQUIREMENTS,
      options(),
    );
    expect(r.data.gaps.map((g) => [g.key, g.reason])).toEqual([['conditions', 'unavailable']]);
  });
});

describe('medicationReference', () => {
  const NO_INCLUDE = { ...CHART, medications: searchset([activeDobutamine]) };

  it('reads a Medication from the server when no Bundle carries it, so rules see its codes', async () => {
    const scope = chartServer([]).get('/fhir/Medication/med-dobutamine').reply(200, dobutamineMedication);
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: NO_INCLUDE }), REQUIREMENTS, options());
    expect(scope.isDone()).toBe(true);
    const [order] = r.data.medicationOrders;
    expect(order?.codings.map((c) => c.code)).toEqual(['1812167', '3616']);
    expect(r.fetches.find((f) => f.resourceType === 'Medication')).toMatchObject({ key: 'medications', outcome: 'ok', requests: 1 });
  });

  it('reports an order whose Medication cannot be read, naming the key', async () => {
    nock(ORIGIN).get('/fhir/Medication/med-dobutamine').reply(404);
    const r = await resolvePatientData(patientView({ fhirServer: FHIR, prefetch: NO_INCLUDE }), REQUIREMENTS, options());
    expect(r.data.medicationOrders[0]?.codings).toEqual([]);
    expect(gap(r, 'medications')).toEqual({
      key: 'medications',
      resourceType: 'Medication',
      reason: 'not-found',
      message: 'Active medication orders (drug of 1 order not identified: the FHIR server did not find it, HTTP 404)',
    });
  });

  it('without a server, an unresolvable reference is a gap, not a crash', async () => {
    const r = await resolvePatientData(patientView({ prefetch: NO_INCLUDE }), REQUIREMENTS, options());
    expect(gap(r, 'medications')).toMatchObject({ resourceType: 'Medication', reason: 'fetch-failed', message: expect.stringContaining('no FHIR server') });
  });

  it('reads a draft order\'s Medication from the server too (within the same budget)', async () => {
    const draft = { resourceType: 'MedicationRequest', id: 'mr-d', status: 'draft', intent: 'order', medicationReference: { reference: 'Medication/med-dobutamine' } };
    const scope = chartServer([]).get('/fhir/Medication/med-dobutamine').once().reply(200, dobutamineMedication);
    const r = await resolvePatientData(orderSign({ fhirServer: FHIR, prefetch: NO_INCLUDE }, [draft]), REQUIREMENTS, options());
    expect(scope.isDone()).toBe(true);
    // One read serves both the draft and the active order naming the same Medication.
    expect(r.data.medicationOrders.map((o) => [o.origin, o.codings.length])).toEqual([
      ['draft', 2],
      ['active', 2],
    ]);
  });
});

describe('logging', () => {
  it('never writes the access token or the patient id to a log line', async () => {
    const capture = logCapture();
    const logger = createLogger({ LOG_LEVEL: 'trace' }, capture.stream);
    nock(ORIGIN).get(`/fhir/Patient/${PATIENT_ID}`).reply(200, patient);
    nock(ORIGIN).get('/fhir/Condition').query(true).reply(403, OO);
    nock(ORIGIN).get('/fhir/Observation').query(true).reply(302, '', { location: `https://x.test/${TOKEN}` });
    nock(ORIGIN).get('/fhir/MedicationRequest').query(true).reply(200, CHART.medications!);
    nock(ORIGIN).get('/fhir/Medication/med-dobutamine').reply(500, 'oops');
    await resolvePatientData(patientView({ fhirServer: FHIR }), REQUIREMENTS, options({ logger }));
    expect(capture.lines.length).toBeGreaterThan(4);
    expect(capture.lines.some((l) => l.includes('"status":403'))).toBe(true);
    for (const line of capture.lines) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(PATIENT_ID);
    }
  });
});

function condition(id: string) {
  return { ...CHART_CONDITION(), id };
}

function CHART_CONDITION() {
  return (CHART.conditions as { entry: { resource: { id: string } }[] }).entry[0]!.resource;
}


function without(chart: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(chart).filter(([k]) => !keys.includes(k)));
}
