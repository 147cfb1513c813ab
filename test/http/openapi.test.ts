import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Express } from 'express';
import { makeApp } from '../helpers.js';

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> }>>;
  components: { responses: Record<string, { content?: Record<string, { schema: unknown }> }>; schemas: Record<string, unknown> };
}

const doc = parse(readFileSync(path.resolve(import.meta.dirname, '../../openapi.yaml'), 'utf8')) as OpenApiDoc;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi', components: doc.components });

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every (method, path) the Express app routes, in OpenAPI path syntax. */
function appRoutes(app: Express): string[] {
  interface Layer {
    rawPath?: string;
    route?: { path: string; methods: Record<string, boolean> };
    handle: { stack?: Layer[] };
  }
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        // Express routes without strict routing: '/cds-services/' serves '/cds-services' too, as documented.
        const joined = `${prefix}${layer.route.path === '/' && prefix ? '' : layer.route.path}`;
        const full = (joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined).replace(/:(\w+)/g, '{$1}');
        for (const m of Object.keys(layer.route.methods).filter((x) => HTTP_METHODS.includes(x))) out.push(`${m} ${full}`);
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out.sort();
}

function documentedRoutes(): string[] {
  return Object.entries(doc.paths)
    .flatMap(([p, ops]) => Object.keys(ops).filter((m) => HTTP_METHODS.includes(m)).map((m) => `${m} ${p}`))
    .sort();
}

/** Validates a real response against the schema the document gives for its path, method and status. */
function expectDocumented(res: request.Response, method: string, docPath: string): void {
  const op = doc.paths[docPath]?.[method];
  expect(op, `${method} ${docPath} is documented`).toBeDefined();
  let response = op!.responses[String(res.status)];
  expect(response, `${method} ${docPath} documents status ${res.status}`).toBeDefined();
  if (response!.$ref) response = doc.components.responses[response!.$ref.split('/').pop()!]!;
  // Non-JSON responses (the Prometheus exposition): the documented media type must be the one served.
  if (response!.content?.['text/plain']) {
    expect(res.type).toBe('text/plain');
    expect(res.text.length).toBeGreaterThan(0);
    return;
  }
  const schema = response!.content?.['application/json']?.schema;
  expect(schema, `${method} ${docPath} ${res.status} has a JSON schema`).toBeDefined();
  const validate = ajv.compile(resolveRefs(schema));
  const ok = validate(res.body);
  expect(validate.errors ?? [], JSON.stringify(res.body).slice(0, 500)).toEqual([]);
  expect(ok).toBe(true);
}

/** Points local `#/components/...` refs at the registered document. */
function resolveRefs(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/')) as Record<string, unknown>;
}

describe('openapi.yaml', () => {
  it('documents exactly the routes the app serves', async () => {
    const { app } = await makeApp();
    expect(appRoutes(app)).toEqual(documentedRoutes());
  });

  it('rejects bodies that break the contract (the check can fail)', () => {
    const validate = ajv.compile(resolveRefs({ $ref: '#/components/schemas/HookResponse' }));
    expect(validate({ cards: [] })).toBe(true);
    expect(validate({ cards: [{ summary: 'x', indicator: 'hard-stop', source: { label: 's' } }] })).toBe(false);
    expect(validate({ cards: [], systemActions: [] })).toBe(false);
  });

  it('describes the real responses', { timeout: 60_000 }, async () => {
    const { app } = await makeApp();
    const { app: small } = await makeApp({ BODY_LIMIT_BYTES: 4096 });
    const body = {
      hook: 'patient-view',
      hookInstance: 'b4f2a7c0-6d1e-4f55-9a0b-2c3d4e5f6a7b',
      context: { userId: 'Practitioner/abc', patientId: '1288992' },
      prefetch: {},
    };
    const example = (file: string): object => JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../examples', file), 'utf8')) as object;
    const feedback = { feedback: [{ card: 'b4f2a7c0-6d1e-4f55-9a0b-2c3d4e5f6a7b', outcome: 'overridden', outcomeTimestamp: '2026-11-21T12:00:00Z' }] };
    const big = 'x'.repeat(8000);
    const cases: [request.Test, string, string, number][] = [
      [request(app).get('/cds-services'), 'get', '/cds-services', 200],
      [request(app).post('/cds-services/inotrope-patient-view').send(example('patient-view-active-milrinone.json')), 'post', '/cds-services/{id}', 200],
      [request(app).post('/cds-services/inotrope-order-sign').send(example('order-sign-milrinone.json')), 'post', '/cds-services/{id}', 200],
      [request(app).post('/cds-services/inotrope-encounter-discharge').send(example('encounter-discharge-home-milrinone.json')), 'post', '/cds-services/{id}', 200],
      [request(app).post('/cds-services/inotrope-patient-view').send({ ...body, hookInstance: 'x' }), 'post', '/cds-services/{id}', 400],
      [request(app).post('/cds-services/inotrope-patient-view').set('content-type', 'application/json').send('{'), 'post', '/cds-services/{id}', 400],
      [request(app).post('/cds-services/nope').send(body), 'post', '/cds-services/{id}', 404],
      [request(app).post('/cds-services/inotrope-patient-view').send({ ...body, prefetch: undefined }), 'post', '/cds-services/{id}', 412],
      [request(small).post('/cds-services/inotrope-patient-view').send({ ...body, extension: { pad: big } }), 'post', '/cds-services/{id}', 413],
      [request(app).post('/cds-services/inotrope-patient-view').set('content-type', 'text/plain').send('x'), 'post', '/cds-services/{id}', 415],
      [request(app).post('/cds-services/inotrope-order-sign/feedback').send(feedback), 'post', '/cds-services/{id}/feedback', 200],
      [request(app).post('/cds-services/inotrope-order-sign/feedback').send({ feedback: [] }), 'post', '/cds-services/{id}/feedback', 400],
      [request(app).get('/feedback'), 'get', '/feedback', 200],
      [request(app).get('/healthz'), 'get', '/healthz', 200],
      [request(app).get('/readyz'), 'get', '/readyz', 200],
      [request(app).get('/metrics'), 'get', '/metrics', 200],
      [request(app).get('/console/config.json'), 'get', '/console/config.json', 200],
      [request(app).get('/admin/ruleset'), 'get', '/admin/ruleset', 200],
      [request(app).get('/admin/ruleset/scenarios'), 'get', '/admin/ruleset/scenarios', 200],
      [request(app).get('/admin/codes?q=1791840'), 'get', '/admin/codes', 200],
      [request(app).get('/admin/codes'), 'get', '/admin/codes', 400],
      [request(app).get('/admin/examples'), 'get', '/admin/examples', 200],
      [request(app).get('/admin/examples/order-sign-milrinone'), 'get', '/admin/examples/{id}', 200],
      [request(app).get('/admin/examples/nope'), 'get', '/admin/examples/{id}', 404],
      [request(app).get('/admin/charts/clean-milrinone?hook=order-select'), 'get', '/admin/charts/{id}', 200],
      [request(app).post('/admin/requests/from-bundle').send({ hook: 'patient-view', bundle: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }] } }), 'post', '/admin/requests/from-bundle', 200],
      [request(app).post('/admin/requests/from-bundle').send({ hook: 'order-sign', bundle: { resourceType: 'Bundle', entry: [] } }), 'post', '/admin/requests/from-bundle', 400],
      [request(app).post('/admin/evaluate').send({ ...example('order-sign-milrinone.json'), now: '2026-11-21T12:00:00Z' }), 'post', '/admin/evaluate', 200],
      [request(app).post('/admin/evaluate').send(example('order-sign-no-prefetch.json')), 'post', '/admin/evaluate', 412],
    ];
    for (const [req, method, docPath, status] of cases) {
      const res = await req;
      expect(res.status, `${method} ${docPath}`).toBe(status);
      expectDocumented(res, method, docPath);
    }
  });
});
