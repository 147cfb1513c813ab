import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { hookBodies, ROOT } from './chart.js';
import { combine, load, type LoadFigures } from './load.js';
import { cpuMs, drain, exited, freePort, launch, peakRssMiB, stop, stopAll, until200, waitForLine } from './processes.js';
import {
  loadTargets,
  printScenarios,
  printTargets,
  scaleTargets,
  writeOperationsCapacity,
  writePerformanceDoc,
  type BenchResults,
  type ScenarioResult,
} from './report.js';
import { runScale } from './scale.js';
import { ledgerOnly, printLedger, runLedgerBench, writeLedgerDoc } from './ledger.js';

/**
 * `npm run bench`: the real service (built, production mode, all rules) against a minimal Express 5
 * baseline, loaded alternately with autocannon in the same run, then the scaling curves; prints every
 * figure with its target, writes bench/results/<time>.json and latest.json, and refreshes
 * docs/performance.md. `npm run bench:scale` runs the scaling curves only.
 *
 * Tunables (environment): BENCH_DURATION_S (8), BENCH_WARMUP_S (3), BENCH_ROUNDS (2),
 * BENCH_STUB_DELAY_MS (50), BENCH_CPU_PROF=1 (write the service's .cpuprofile to bench/results/profiles).
 */

const settings = {
  connections: 10,
  durationS: Number(process.env.BENCH_DURATION_S ?? 8),
  warmupS: Number(process.env.BENCH_WARMUP_S ?? 3),
  rounds: Number(process.env.BENCH_ROUNDS ?? 2),
  stubDelayMs: Number(process.env.BENCH_STUB_DELAY_MS ?? 50),
};
const TSX = ['--import', 'tsx'];
const benchDataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-data-'));

/** The V8 options production runs with (deploy/kubernetes/deployment.yaml), so the bench measures the deployed process. */
function productionNodeOptions(): string {
  const deployment = parse(readFileSync(path.join(ROOT, 'deploy/kubernetes/deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
  };
  return deployment.spec.template.spec.containers[0]!.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
}

async function startService(port: number, stubPort: number, profile: boolean): Promise<{ child: ChildProcess; readyMs: number }> {
  const args = profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ROOT, 'bench/results/profiles')}`] : [];
  const spawnedAt = performance.now();
  const child = launch(process.execPath, [...args, 'dist/src/main.js'], {
    NODE_ENV: 'production',
    NODE_OPTIONS: productionNodeOptions(),
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    CDS_AUTH: 'off',
    RULES_WATCH: 'off',
    FHIR_SERVER_ALLOWLIST: `http://127.0.0.1:${stubPort}/fhir`,
    // The per-client rate limit would refuse a load test from one address; its cost is still paid.
    RATE_LIMIT_PER_MINUTE: '1000000000',
    // The embedded database (the default) in a directory of the run's own; the card ledger's cost against
    // PostgreSQL and an in-memory store is measured on its own (bench/ledger.ts).
    DATA_DIR: benchDataDir,
    DATABASE_URL: '',
  });
  drain(child);
  const failed = new Promise<never>((_r, reject) => child.once('exit', (code) => reject(new Error(`service exited with ${code}`))));
  const readyMs = await Promise.race([until200(`http://127.0.0.1:${port}/readyz`, spawnedAt, 120_000), failed]);
  return { child, readyMs };
}

async function startHelper(script: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = launch(process.execPath, [...TSX, script, ...args], { NODE_ENV: 'production' });
  // Starting tsx can take minutes on a loaded, shared machine (the ledger servers get as long).
  const match = await waitForLine(child, /^listening (\d+)$/, 180_000);
  return { child, port: Number(match[1]) };
}

async function stopAndWait(child: ChildProcess): Promise<void> {
  const done = exited(child);
  stop(child);
  await done;
}

async function post(url: string, body: unknown): Promise<{ status: number; json: { cards?: unknown[] } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as { cards?: unknown[] } };
}

async function benchmark(): Promise<Omit<BenchResults, 'targets' | 'scale'>> {
  const loadAverageAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
  if (loadAverageAtStart > os.cpus().length / 2) {
    console.warn(`warning: load average ${loadAverageAtStart} on ${os.cpus().length} CPUs: other work will distort the figures`);
  }
  console.log('Building (npm run build) …');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });

  const stub = await startHelper('bench/fhir-stub.ts', [String(settings.stubDelayMs)]);
  const stubStats = (async () => {
    const match = await waitForLine(stub.child, /^stats (.*)$/, 24 * 3_600_000).catch(() => undefined);
    return match ? (JSON.parse(match[1]!) as { requests: number; unmatched: number }) : { requests: NaN, unmatched: NaN };
  })();

  // Cold start: spawn to the first 200 from /readyz, three times; the last process stays up for the load.
  const port = await freePort();
  const coldRuns: number[] = [];
  let service: ChildProcess | undefined;
  for (let i = 0; i < 3; i++) {
    if (service) await stopAndWait(service);
    const started = await startService(port, stub.port, i === 2 && process.env.BENCH_CPU_PROF === '1');
    service = started.child;
    coldRuns.push(started.readyMs);
  }
  console.log(`Cold start to ready: ${coldRuns.map((x) => `${Math.round(x)} ms`).join(', ')}`);

  const base = `http://127.0.0.1:${port}`;
  const discovery = (await (await fetch(`${base}/cds-services`)).json()) as Parameters<typeof hookBodies>[0];
  const bodies = hookBodies(discovery, `http://127.0.0.1:${stub.port}/fhir`);
  const scenarios = [
    { id: 'order-sign-prefetch', title: '(1) order-sign, milrinone, full prefetch', path: '/cds-services/inotrope-order-sign', body: bodies.orderSign.body },
    { id: 'patient-view', title: '(2) patient-view, patient on milrinone', path: '/cds-services/inotrope-patient-view', body: bodies.patientView.body },
    { id: 'order-sign-fhir-fetch', title: '(3) order-sign, no prefetch, FHIR stub', path: '/cds-services/inotrope-order-sign', body: bodies.orderSignNoPrefetch.body },
  ] as const;
  const cards: Record<string, number> = {};
  let signResponse = '';
  for (const s of scenarios) {
    const res = await post(`${base}${s.path}`, s.body);
    if (res.status !== 200) throw new Error(`${s.title}: the service answered ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`);
    cards[s.id] = res.json.cards?.length ?? 0;
    if (s.id === 'order-sign-prefetch') signResponse = JSON.stringify(res.json);
  }
  console.log(
    `Inputs: order-sign ${(bodies.orderSign.bytes / 1024).toFixed(1)} KB, ${bodies.orderSign.observations} Observations, ${cards['order-sign-prefetch']} cards; patient-view ${(bodies.patientView.bytes / 1024).toFixed(1)} KB, ${cards['patient-view']} cards; no-prefetch order-sign ${cards['order-sign-fhir-fetch']} cards`,
  );

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const responseFile = path.join(tmp, 'response.json');
  writeFileSync(responseFile, signResponse);
  const baseline = await startHelper('bench/baseline-server.ts', [responseFile]);
  const baselineBase = `http://127.0.0.1:${baseline.port}`;

  const results: ScenarioResult[] = [];
  try {
    for (const s of scenarios) {
      const body = JSON.stringify(s.body);
      const target = (host: string) => ({ url: `${host}${s.path}`, body, connections: settings.connections });
      console.log(`\n${s.title}: warm-up ${settings.warmupS} s per target, then ${settings.rounds} × ${settings.durationS} s alternating`);
      await load({ ...target(base), durationS: settings.warmupS });
      await load({ ...target(baselineBase), durationS: settings.warmupS });
      const runs: { service: LoadFigures[]; baseline: LoadFigures[] } = { service: [], baseline: [] };
      for (let round = 0; round < settings.rounds; round++) {
        // Alternate which goes first, so neither always runs on a warmer (or hotter) machine.
        const order = round % 2 === 0 ? (['service', 'baseline'] as const) : (['baseline', 'service'] as const);
        for (const who of order) {
          const pid = (who === 'service' ? service! : baseline.child).pid!;
          const cpuBefore = cpuMs(pid);
          const loopBefore = cpuMs(pid, { mainThread: true });
          const measured = await load({ ...target(who === 'service' ? base : baselineBase), durationS: settings.durationS });
          const perRequest = (ms: number) => Math.round((ms / measured.requests) * 1000) / 1000;
          const figures = {
            ...measured,
            cpuMsPerRequest: perRequest(cpuMs(pid) - cpuBefore),
            eventLoopMsPerRequest: perRequest(cpuMs(pid, { mainThread: true }) - loopBefore),
          };
          runs[who].push(figures);
          console.log(
            `  ${who.padEnd(8)} ${String(figures.reqPerSec).padStart(6)} req/s  p50 ${figures.p50} ms  p99 ${figures.p99} ms  ${figures.cpuMsPerRequest.toFixed(2)} CPU ms/request (${figures.eventLoopMsPerRequest.toFixed(2)} on the event loop)${figures.non2xx + figures.errors > 0 ? `  (${figures.non2xx} non-2xx, ${figures.errors} errors)` : ''}`,
          );
        }
      }
      const svc = combine(runs.service);
      const bl = combine(runs.baseline);
      if (svc.non2xx + svc.errors > 0) console.warn(`  warning: ${svc.non2xx} non-2xx answers and ${svc.errors} errors from the service under load`);
      results.push({
        id: s.id,
        title: s.title,
        cards: cards[s.id]!,
        service: svc,
        baseline: bl,
        throughputRatio: Math.round((svc.reqPerSec / bl.reqPerSec) * 100) / 100,
        cpuRatio: Math.round((bl.cpuMsPerRequest! / svc.cpuMsPerRequest!) * 100) / 100,
      });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // The peak since the service started covers every scenario's load.
  const peakMiB = peakRssMiB(service!.pid!);

  await Promise.all([stopAndWait(service!), stopAndWait(baseline.child), stopAndWait(stub.child)]);
  const sorted = [...coldRuns].sort((a, b) => a - b);
  return {
    date: new Date().toISOString(),
    machine: {
      node: process.versions.node,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      platform: `${os.platform()} ${os.arch()}`,
      loadAverageAtStart,
      loadAverageAtEnd: Math.round(os.loadavg()[0]! * 100) / 100,
    },
    settings,
    inputs: { orderSignBytes: bodies.orderSign.bytes, orderSignObservations: bodies.orderSign.observations, patientViewBytes: bodies.patientView.bytes },
    coldStartMs: { runs: coldRuns.map((x) => Math.round(x)), median: Math.round(sorted[1]!) },
    service: { peakRssMiB: peakMiB, peakRssMB: Math.round(peakMiB * 1.048576 * 10) / 10 },
    stub: await stubStats,
    scenarios: results,
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--ledger')) {
    await ledgerOnly(() => startHelper('bench/fhir-stub.ts', [String(settings.stubDelayMs)]));
    return;
  }
  const scaleOnly = process.argv.includes('--scale');
  const measured = scaleOnly ? undefined : await benchmark();
  console.log('\nScaling curves (in-process, one order-sign request)');
  const scale = await runScale();
  if (!measured) {
    printTargets(scaleTargets(scale));
    return;
  }
  const partial = { ...measured, scale };
  const results: BenchResults = { ...partial, targets: [...loadTargets(partial), ...scaleTargets(scale)] };
  console.log('\nCard ledger: the app on an in-memory store, PostgreSQL and PGlite, alternately');
  const stub = await startHelper('bench/fhir-stub.ts', [String(settings.stubDelayMs)]);
  const ledger = await runLedgerBench({ stubPort: stub.port, connections: settings.connections, durationS: settings.durationS, rounds: Math.max(3, settings.rounds) }).finally(() =>
    stopAndWait(stub.child),
  );
  printScenarios(results);
  printTargets(results.targets);
  printLedger(ledger);

  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.date.replace(/[:.]/g, '-')}.json`);
  const text = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(path.join(dir, 'latest.json'), text);
  writeFileSync(file.replace(/\.json$/, '.ledger.json'), `${JSON.stringify(ledger, null, 2)}\n`);
  writeFileSync(path.join(dir, 'ledger-latest.json'), `${JSON.stringify(ledger, null, 2)}\n`);
  writePerformanceDoc(results, file);
  writeLedgerDoc(ledger, file.replace(/\.json$/, '.ledger.json'));
  writeOperationsCapacity(results);
  console.log(`\nWrote ${path.relative(ROOT, file)}, bench/results/latest.json, docs/performance.md and the capacity section of docs/operations.md`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopAll();
    process.exit(130);
  });
}

main()
  .catch((err: unknown) => {
    console.error('Benchmark failed:', err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => {
    stopAll();
    rmSync(benchDataDir, { recursive: true, force: true });
  });
