import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { makeApp } from '../helpers.js';
import { discoveryResponseSchema } from '../../src/cds/response-schema.js';

describe('GET /cds-services', () => {
  it('lists one service per hook with spec-valid fields', async () => {
    const { app } = await makeApp();
    const res = await request(app).get('/cds-services').expect(200).expect('content-type', /application\/json/);
    const body = discoveryResponseSchema.parse(res.body);
    expect(body.services.map((s) => s.hook).sort()).toEqual(['encounter-discharge', 'order-select', 'order-sign', 'patient-view']);
    for (const s of body.services) {
      for (const template of Object.values(s.prefetch ?? {})) {
        // CDS Hooks 2.0 prefetch tokens only (https://cds-hooks.hl7.org/2.0/#prefetch-tokens)
        for (const token of template.match(/{{[^}]*}}/g) ?? []) {
          expect(token).toMatch(/^{{(context\.(patientId|userId|encounterId)|userPractitionerId|userPractitionerRoleId|userPatientId|userRelatedPersonId)}}$/);
        }
      }
    }
  });

  it('encounter-discharge: the service prefetches the encounter being ended and the active orders', async () => {
    const { app } = await makeApp();
    const res = await request(app).get('/cds-services').expect(200);
    const body = discoveryResponseSchema.parse(res.body);
    const service = body.services.find((s) => s.hook === 'encounter-discharge')!;
    expect(service.id).toBe('inotrope-encounter-discharge');
    expect(service.prefetch).toMatchObject({
      encounter: 'Encounter/{{context.encounterId}}',
      medications: 'MedicationRequest?patient={{context.patientId}}&status=active',
    });
    // The other hooks do not ask for an encounter they do not read.
    for (const s of body.services.filter((x) => x.hook !== 'encounter-discharge')) expect(s.prefetch ?? {}).not.toHaveProperty('encounter');
  });

  it('the order and chart services prefetch the procedures the rules read (bridge or palliative plan, recent cardiac surgery): the newest 100', async () => {
    const { app } = await makeApp();
    const res = await request(app).get('/cds-services').expect(200);
    const body = discoveryResponseSchema.parse(res.body);
    for (const hook of ['order-select', 'order-sign', 'patient-view']) {
      const service = body.services.find((s) => s.hook === hook)!;
      expect(service.prefetch, hook).toMatchObject({ procedures: 'Procedure?patient={{context.patientId}}&_sort=-date&_count=100' });
    }
  });

  it('answers CORS preflight for service calls without authentication', async () => {
    const { app } = await makeApp();
    const res = await request(app)
      .options('/cds-services/inotrope-order-sign')
      .set('Origin', 'https://sandbox.cds-hooks.org')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });
});
