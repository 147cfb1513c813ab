import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { parseAllDocuments } from 'yaml';
import { configSchema, loadConfig } from '../../src/config.js';
import { parseClients } from '../../src/http/auth/clients.js';
import { readRuleset } from '../../src/rules/load.js';
import { bundleRules, CONFIGMAP_FILE, DEPLOYMENT_FILE, renderConfigMap, renderDeployment } from '../../deploy/rules-configmap.js';
import { makeApp } from '../helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are read as plain parsed YAML */
const ROOT = path.resolve(import.meta.dirname, '../..');
const DIR = path.join(ROOT, 'deploy/kubernetes');

const manifests: Record<string, any> = {};
for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
  for (const doc of parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8'))) {
    expect(doc.errors, file).toEqual([]);
    const obj = doc.toJS() as any;
    manifests[`${obj.kind}/${obj.metadata.name}`] = obj;
  }
}
const deployment = manifests['Deployment/inotrope-cds'];
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
/** Literal settings; those taken from a Secret (`valueFrom`) are checked on their own. */
const env: Record<string, string> = Object.fromEntries(container.env.filter((e: any) => e.valueFrom === undefined).map((e: any) => [e.name, String(e.value)]));
const fromSecret: Record<string, any> = Object.fromEntries(container.env.filter((e: any) => e.valueFrom !== undefined).map((e: any) => [e.name, e.valueFrom]));
const config = loadConfig(env);
const mountOf = (volume: string) => container.volumeMounts.find((m: any) => m.name === volume);
const volumeOf = (volume: string) => pod.volumes.find((v: any) => v.name === volume);

/** Dockerfile instructions of the runtime (last) stage. */
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const dockerEnv = Object.fromEntries([...runtimeStage.matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));

const tmp = mkdtempSync(path.join(os.tmpdir(), 'k8s-rules-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('deploy/kubernetes', () => {
  it('has every object kustomize applies, and kustomize applies every file', () => {
    expect(Object.keys(manifests).sort()).toEqual([
      'ConfigMap/inotrope-cds-clients',
      'ConfigMap/inotrope-cds-rules',
      'Deployment/inotrope-cds',
      'HorizontalPodAutoscaler/inotrope-cds',
      'PodDisruptionBudget/inotrope-cds',
      'Service/inotrope-cds',
    ]);
    const kustomization = parseAllDocuments(readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as any;
    expect([...kustomization.resources].sort()).toEqual(readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort());
  });

  it('sets only real configuration keys, to values the service accepts', () => {
    const known = new Set([...Object.keys(configSchema.shape), 'NODE_ENV', 'NODE_OPTIONS']);
    expect([...Object.keys(env), ...Object.keys(fromSecret)].filter((k) => !known.has(k))).toEqual([]);
    expect(config.CDS_AUTH).toBe('on');
    expect(config.HOST).toBe('0.0.0.0');
    // The hospital's clock for vital signs' time of day: set explicitly, so an operator sees where to put theirs.
    expect(config.DISPLAY_TIME_ZONE).toBe(env.DISPLAY_TIME_ZONE);
    // Replicas must agree: a rules change arrives as a new ConfigMap and a rollout, not per-pod file watching.
    expect(config.RULES_WATCH).toBe('off');
  });

  it('takes the operator credential from a Secret, so the admin routes are not open to a sidecar on loopback', () => {
    expect(Object.keys(fromSecret)).toEqual(['ADMIN_TOKEN', 'DATABASE_URL']);
    expect(fromSecret.ADMIN_TOKEN).toEqual({ secretKeyRef: { name: 'inotrope-cds-admin', key: 'ADMIN_TOKEN' } });
    expect(container.env.find((e: any) => e.name === 'ADMIN_TOKEN').value).toBeUndefined();
    // No Secret object is shipped: the token is created in the cluster, never committed.
    expect(Object.keys(manifests).filter((k) => k.startsWith('Secret/'))).toEqual([]);
    // With the Secret's value (32+ characters) the configuration is valid.
    expect(loadConfig({ ...env, ADMIN_TOKEN: 'f'.repeat(64) }).ADMIN_TOKEN).toHaveLength(64);
  });

  it('is stateless: the shared PostgreSQL comes from a Secret, nothing is written in the pod', () => {
    expect(fromSecret.DATABASE_URL).toEqual({ secretKeyRef: { name: 'inotrope-cds-database', key: 'DATABASE_URL' } });
    expect(container.env.find((e: any) => e.name === 'DATABASE_URL').value).toBeUndefined();
    // Without DATABASE_URL the service would try the embedded database in DATA_DIR: not on a read-only root.
    expect(env.DATA_DIR).toBeUndefined();
    expect(pod.volumes.filter((v: any) => v.emptyDir !== undefined || v.persistentVolumeClaim !== undefined)).toEqual([]);
    expect(deployment.metadata.annotations?.['inotrope-cds/stateful']).toBeUndefined();
    expect(readFileSync(path.join(DIR, 'deployment.yaml'), 'utf8')).toMatch(/^# inotrope-cds: stateless CDS Hooks service/);
    // A URL of the Secret's shape is valid configuration.
    expect(loadConfig({ ...env, DATABASE_URL: 'postgres://cds:secret@db.internal:5432/cds?sslmode=verify-full' }).DATABASE_URL).toMatch(/^postgres:/);
  });

  it('agrees with the image on port, rules folder and user', () => {
    expect(container.ports).toEqual([{ name: 'http', containerPort: config.PORT, protocol: 'TCP' }]);
    expect(runtimeStage).toMatch(new RegExp(`\\nEXPOSE ${config.PORT}\\n`));
    expect(dockerEnv.PORT).toBe(String(config.PORT));
    expect(dockerEnv.RULES_DIR).toBe(config.RULES_DIR);
    expect(dockerEnv.NODE_ENV).toBe(env.NODE_ENV);
    expect(runtimeStage).toMatch(/\nUSER node\n/);
    expect(manifests['Service/inotrope-cds'].spec.ports[0].targetPort).toBe('http');
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(config.PORT));
  });

  it('probes routes the service answers, on its port', async () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const { app } = await makeApp();
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      await request(app).get(probe.httpGet.path).expect(200);
    }
    await request(app).get(deployment.spec.template.metadata.annotations['prometheus.io/path']).expect(200);
  });

  it('runs non-root on a read-only root filesystem without privileges', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    for (const mount of container.volumeMounts) expect(mount.readOnly, mount.name).toBe(true);
  });

  it('sizes memory from the measured RSS and lets shutdown finish in-flight requests', () => {
    const mib = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? NaN);
    const { requests, limits } = container.resources;
    expect(requests.cpu).toBeDefined();
    expect(limits.cpu).toBeDefined();
    const latest = JSON.parse(readFileSync(path.join(ROOT, 'bench/results/latest.json'), 'utf8')) as { service: { peakRssMiB: number } };
    expect(mib(requests.memory)).toBeGreaterThanOrEqual(latest.service.peakRssMiB);
    expect(mib(limits.memory)).toBeGreaterThanOrEqual(1.5 * latest.service.peakRssMiB);
    // V8's heap cap (young generation: three semi-spaces) plus code and buffers must fit under the limit,
    // so the heap runs out (and is collected) before the container is killed.
    const v8 = (flag: string) => Number(new RegExp(`--${flag}=(\\d+)`).exec(env.NODE_OPTIONS ?? '')?.[1] ?? NaN);
    expect(v8('max-old-space-size') + 3 * v8('max-semi-space-size') + 64).toBeLessThanOrEqual(mib(limits.memory));
    const preStopSeconds = Number(container.lifecycle.preStop.exec.command[1]);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.SHUTDOWN_GRACE_MS + preStopSeconds * 1000);
  });

  it('autoscales the Deployment and keeps a replica through disruptions', () => {
    const hpa = manifests['HorizontalPodAutoscaler/inotrope-cds'];
    const pdb = manifests['PodDisruptionBudget/inotrope-cds'];
    const labels = deployment.spec.template.metadata.labels;
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics[0].resource).toMatchObject({ name: 'cpu', target: { type: 'Utilization' } });
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
    for (const selector of [deployment.spec.selector, pdb.spec.selector]) expect(labels).toMatchObject(selector.matchLabels);
    expect(labels).toMatchObject(manifests['Service/inotrope-cds'].spec.selector);
  });

  it('mounts the clients ConfigMap where CDS_CLIENTS_FILE points, with a valid clients file', () => {
    const mount = mountOf('clients');
    const key = path.relative(mount.mountPath, config.CDS_CLIENTS_FILE!);
    expect(volumeOf('clients').configMap.name).toBe('inotrope-cds-clients');
    const text = manifests['ConfigMap/inotrope-cds-clients'].data[key];
    expect(text, `ConfigMap key ${key}`).toBeDefined();
    expect(parseClients(text, key).length).toBeGreaterThan(0);
  });

  it('mounts the rules ConfigMap at RULES_DIR as a ruleset the service loads', async () => {
    expect(mountOf('rules').mountPath).toBe(config.RULES_DIR);
    const volume = volumeOf('rules').configMap;
    const data = manifests[`ConfigMap/${volume.name}`].data as Record<string, string>;
    expect(volume.items.map((i: any) => i.key).sort()).toEqual(Object.keys(data).sort());
    // Lay the files out as the kubelet would, then load them with the real loader.
    for (const item of volume.items) {
      mkdirSync(path.dirname(path.join(tmp, item.path)), { recursive: true });
      writeFileSync(path.join(tmp, item.path), data[item.key]!);
    }
    const loaded = await readRuleset(tmp);
    expect(loaded.ok ? [] : loaded.errors).toEqual([]);
  });

  it('ships the current rules (else run `npm run deploy:rules`)', () => {
    expect(existsSync(CONFIGMAP_FILE)).toBe(true);
    const bundle = bundleRules();
    expect(readFileSync(CONFIGMAP_FILE, 'utf8')).toBe(renderConfigMap(bundle));
    const deploymentText = readFileSync(DEPLOYMENT_FILE, 'utf8');
    expect(deploymentText).toBe(renderDeployment(deploymentText, bundle));
  });
});
