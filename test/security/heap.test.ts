import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { killAll, listening, startService } from '../stores/service-process.js';
import { PATIENT_ID } from './security-helpers.js';

/**
 * Issue 16: the process stays alive under the production heap settings (the Deployment's NODE_OPTIONS)
 * while a hostile FHIR server answers every search of many concurrent calls with large answers, flat and
 * deeply nested (three such calls used to crash a 96 MB heap).
 */

let fhir: Server | undefined;
afterEach(async () => {
  killAll();
  await new Promise<void>((resolve) => (fhir ? fhir.close(() => resolve()) : resolve()));
});

function deploymentNodeOptions(): string {
  const docs = parseAllDocuments(readFileSync(path.join(import.meta.dirname, '../../deploy/kubernetes/deployment.yaml'), 'utf8'));
  const text = JSON.stringify(docs.map((d) => d.toJSON()));
  const match = /"name":"NODE_OPTIONS","value":"([^"]+)"/.exec(text);
  expect(match, 'the Deployment sets NODE_OPTIONS').not.toBeNull();
  return match![1]!;
}

describe('under the Deployment heap limit', () => {
  it('survives concurrent calls whose FHIR answers are large and deeply nested', async () => {
    const flat = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x'.repeat(3_900_000) } } }] });
    const nested = `{"resourceType":"Bundle","type":"searchset","entry":[${'{"e":['.repeat(300_000)}${']}'.repeat(300_000)}]}`;
    let n = 0;
    fhir = createServer((req, res) => {
      const body = (req.url ?? '').includes('/Patient/') ? JSON.stringify({ resourceType: 'Patient', id: PATIENT_ID }) : n++ % 2 === 0 ? flat : nested;
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(body);
    });
    await new Promise<void>((resolve) => fhir!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(fhir.address() as AddressInfo).port}/fhir`;
    const service = startService({
      NODE_OPTIONS: deploymentNodeOptions(),
      CDS_AUTH: 'off',
      METRICS_ENABLED: 'off',
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'cds-heap-')),
      FHIR_SERVER_ALLOWLIST: base,
      FHIR_BUDGET_MS: '1500',
      FHIR_REQUEST_TIMEOUT_MS: '1500',
      REQUEST_TIMEOUT_MS: '4000',
    });
    const url = await listening(service);
    const body = JSON.stringify({
      hook: 'patient-view',
      hookInstance: '5f0b6c1e-3a2d-4d8e-9b7a-1c2d3e4f5a6b',
      fhirServer: base,
      context: { userId: 'Practitioner/example', patientId: PATIENT_ID },
    });
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${url}/cds-services/inotrope-patient-view`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) }),
        ),
      );
      // Answered (partial data still gives cards), not refused before any large body was read.
      for (const a of answers) expect(a.status).toBe(200);
    }
    // Every call asked for the large searches: the attack reached the FHIR reader.
    expect(n).toBeGreaterThanOrEqual(36);
    expect(service.child.exitCode).toBeNull();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 240_000);
});
