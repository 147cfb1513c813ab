import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './chart.js';
import type { LoadFigures } from './load.js';
import type { ScaleResults } from './scale.js';

export interface ScenarioResult {
  id: 'order-sign-prefetch' | 'patient-view' | 'order-sign-fhir-fetch';
  title: string;
  cards: number;
  service: LoadFigures;
  baseline: LoadFigures;
  /** Service throughput / baseline throughput, both measured in this run. */
  throughputRatio: number;
  /** Baseline CPU per request / service CPU per request: the throughput ratio on an otherwise idle core. */
  cpuRatio: number;
}

export interface BenchResults {
  date: string;
  machine: { node: string; cpus: number; cpuModel: string; platform: string; loadAverageAtStart: number; loadAverageAtEnd: number };
  settings: { connections: number; durationS: number; warmupS: number; rounds: number; stubDelayMs: number };
  inputs: { orderSignBytes: number; orderSignObservations: number; patientViewBytes: number };
  coldStartMs: { runs: number[]; median: number };
  service: { peakRssMB: number; peakRssMiB: number };
  stub: { requests: number; unmatched: number };
  scenarios: ScenarioResult[];
  scale: ScaleResults;
  targets: Target[];
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

/** Power of growth of time in rules: the least-squares slope of log(time) on log(rules); 1 is linear. */
export function rulesExponent(scale: ScaleResults): number {
  const xs = scale.rules.map((p) => Math.log(p.n));
  const ys = scale.rules.map((p) => Math.log(p.medianMs));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return num / den;
}

export function scaleTargets(scale: ScaleResults): Target[] {
  const obs = scale.observations.find((p) => p.n === 10000)!;
  const stress = scale.observationsUnbounded.find((p) => p.n === 10000)!;
  const exponent = rulesExponent(scale);
  return [
    {
      name: '10 000 Observations, conformant EHR',
      target: '≤ 50 ms',
      measured: `${obs.medianMs.toFixed(1)} ms (median)`,
      met: obs.medianMs <= 50,
    },
    {
      name: '10 000 Observations all in prefetch (stress)',
      target: '≤ 50 ms',
      measured: `${stress.medianMs.toFixed(1)} ms (median)`,
      met: stress.medianMs <= 50,
    },
    {
      name: 'Time in rules',
      target: 'linear or better (log-log slope ≤ 1.1 over 10, 100, 1 000 rules)',
      measured: `slope ${exponent.toFixed(2)}`,
      met: exponent <= 1.1,
    },
  ];
}

export function loadTargets(r: Omit<BenchResults, 'targets'>): Target[] {
  const sign = r.scenarios.find((s) => s.id === 'order-sign-prefetch')!;
  const fetch = r.scenarios.find((s) => s.id === 'order-sign-fhir-fetch')!;
  const fetchLimit = 1.2 * r.settings.stubDelayMs + 5;
  return [
    {
      name: '(1) throughput',
      target: '≥ 0.6 × baseline',
      measured: `${sign.throughputRatio.toFixed(2)} × (${sign.service.reqPerSec} vs ${sign.baseline.reqPerSec} req/s; CPU ratio ${sign.cpuRatio.toFixed(2)})`,
      met: sign.throughputRatio >= 0.6,
    },
    { name: '(1) p99 at concurrency 10', target: '≤ 15 ms', measured: `${sign.service.p99} ms`, met: sign.service.p99 <= 15 },
    {
      name: '(3) p50 with FHIR fetching',
      target: `≤ 1.2 × ${r.settings.stubDelayMs} ms + 5 ms = ${fetchLimit} ms`,
      measured: `${fetch.service.p50} ms`,
      met: fetch.service.p50 <= fetchLimit,
    },
    { name: 'Cold start to ready', target: '≤ 1.5 s', measured: `${Math.round(r.coldStartMs.median)} ms (median)`, met: r.coldStartMs.median <= 1500 },
    { name: 'RSS under load', target: '≤ 150 MB', measured: `${r.service.peakRssMB} MB (peak)`, met: r.service.peakRssMB <= 150 },
  ];
}

export function printTargets(targets: Target[]): void {
  console.log('\nTargets');
  for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.measured} (target ${t.target})`);
}

export function printScenarios(r: BenchResults): void {
  console.log('\nScenario                                   |   req/s | p50 ms | p99 ms | baseline req/s | p50 | p99 | ratio | CPU ratio');
  for (const s of r.scenarios) {
    console.log(
      `  ${s.title.padEnd(41)}| ${String(s.service.reqPerSec).padStart(7)} | ${String(s.service.p50).padStart(6)} | ${String(s.service.p99).padStart(6)} | ${String(s.baseline.reqPerSec).padStart(14)} | ${String(s.baseline.p50).padStart(3)} | ${String(s.baseline.p99).padStart(3)} | ${s.throughputRatio.toFixed(2).padStart(5)} | ${s.cpuRatio.toFixed(2)}`,
    );
  }
  const fetch = r.scenarios.find((s) => s.id === 'order-sign-fhir-fetch')!;
  console.log(`  (3) p50 ${fetch.service.p50} ms against a stub delay of ${r.settings.stubDelayMs} ms (${(fetch.service.p50 / r.settings.stubDelayMs).toFixed(2)} ×)`);
}

const BEGIN = '<!-- bench:begin (written by npm run bench; edit outside these markers) -->';
const END = '<!-- bench:end -->';

/** Replaces the generated block of docs/performance.md with this run's figures. */
export function writePerformanceDoc(r: BenchResults, resultFile: string): void {
  const file = path.join(ROOT, 'docs/performance.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md has no ${BEGIN} … ${END} block`);
  const row = (s: ScenarioResult) =>
    `| ${s.title} | ${s.cards} | ${s.service.reqPerSec} | ${s.service.p50} | ${s.service.p99} | ${s.service.cpuMsPerRequest} | ${s.service.eventLoopMsPerRequest} | ${s.baseline.reqPerSec} | ${s.baseline.p50} | ${s.baseline.p99} | ${s.baseline.cpuMsPerRequest} | ${s.throughputRatio.toFixed(2)} | ${s.cpuRatio.toFixed(2)} |`;
  const fetch = r.scenarios.find((s) => s.id === 'order-sign-fhir-fetch')!;
  const lines = [
    BEGIN,
    '',
    `Latest run: ${r.date} on ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node} (${r.machine.platform}), 1-minute load average ${r.machine.loadAverageAtStart} at start and ${r.machine.loadAverageAtEnd} at the end; results in \`${path.relative(ROOT, resultFile)}\` and \`bench/results/latest.json\`.`,
    `Concurrency ${r.settings.connections}, ${r.settings.warmupS} s warm-up per target and scenario, then ${r.settings.rounds} alternating rounds of ${r.settings.durationS} s per target.`,
    `Inputs: order-sign request ${(r.inputs.orderSignBytes / 1024).toFixed(1)} KB with ${r.inputs.orderSignObservations} Observations in prefetch; patient-view request ${(r.inputs.patientViewBytes / 1024).toFixed(1)} KB; FHIR stub delay ${r.settings.stubDelayMs} ms (${r.stub.requests} FHIR requests served, ${r.stub.unmatched} unmatched).`,
    '',
    '| Scenario | Cards | Service req/s | p50 ms | p99 ms | CPU ms/req | of it, event loop | Baseline req/s | p50 ms | p99 ms | CPU ms/req | Throughput ratio | CPU ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.scenarios.map(row),
    '',
    'Throughput ratio: service req/s ÷ baseline req/s in this run. CPU ratio: baseline CPU per request ÷ service CPU per request (each server process, from /proc), which is what the throughput ratio would be on otherwise idle cores; it is much less sensitive to other load on the machine. Event loop: the CPU of the service main thread alone (the rest is V8 garbage-collection and compiler threads); one process cannot answer more than 1 000 ÷ that many calls per second.',
    '',
    `(3) p50 ${fetch.service.p50} ms against a stub delay of ${r.settings.stubDelayMs} ms (${(fetch.service.p50 / r.settings.stubDelayMs).toFixed(2)} ×). Cold start to ready: ${r.coldStartMs.runs.map((x) => Math.round(x)).join(', ')} ms (median ${Math.round(r.coldStartMs.median)} ms). Peak RSS under load: ${r.service.peakRssMB} MB (${r.service.peakRssMiB} MiB).`,
    '',
    'Scaling (in-process, one order-sign request: validate, resolve, evaluate, render):',
    '',
    '| Rules | median ms | p95 ms | | Observations | conformant EHR: median ms | p95 ms | all in prefetch: median ms | p95 ms |',
    '|---:|---:|---:|---|---:|---:|---:|---:|---:|',
    ...r.scale.rules.map((p, i) => {
      const o = r.scale.observations[i]!;
      const u = r.scale.observationsUnbounded[i]!;
      return `| ${p.n} | ${p.medianMs.toFixed(2)} | ${p.p95Ms.toFixed(2)} | | ${o.n} | ${o.medianMs.toFixed(2)} | ${o.p95Ms.toFixed(2)} | ${u.medianMs.toFixed(2)} | ${u.p95Ms.toFixed(2)} |`;
    }),
    '',
    '| Target | Goal | Measured | |',
    '|---|---|---|---|',
    ...r.targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? 'met' : '**not met**'} |`),
    '',
    END,
  ];
  writeFileSync(file, text.slice(0, start) + lines.join('\n') + text.slice(end + END.length));
}

const CAPACITY_BEGIN = '<!-- capacity:begin (written by npm run bench) -->';
const CAPACITY_END = '<!-- capacity:end -->';

/** Rewrites the capacity paragraph of docs/operations.md from this run. */
export function writeOperationsCapacity(r: BenchResults): void {
  const file = path.join(ROOT, 'docs/operations.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(CAPACITY_BEGIN);
  const end = text.indexOf(CAPACITY_END);
  if (start < 0 || end < start) throw new Error(`docs/operations.md has no ${CAPACITY_BEGIN} … ${CAPACITY_END} block`);
  const [sign, view, fetch] = (['order-sign-prefetch', 'patient-view', 'order-sign-fhir-fetch'] as const).map(
    (id) => r.scenarios.find((s) => s.id === id)!,
  );
  // At 60 % of one core (the HPA's target) a call waits on average about 1.5 × its own CPU time.
  const plan = Math.floor((0.6 * 1000) / sign!.service.cpuMsPerRequest! / 5) * 5;
  const fetchPlan = Math.floor((0.6 * 1000) / fetch!.service.cpuMsPerRequest! / 5) * 5;
  const deployment = parse(readFileSync(path.join(ROOT, 'deploy/kubernetes/deployment.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: { resources: { requests: { memory: string }; limits: { memory: string; cpu: string } } }[] } } };
  };
  const { resources } = deployment.spec.template.spec.containers[0]!;
  const lines = [
    CAPACITY_BEGIN,
    `From the latest \`npm run bench\` (${r.date.slice(0, 10)}, ${r.machine.cpus} × ${r.machine.cpuModel}, load average ${r.machine.loadAverageAtStart} at start; docs/performance.md has the details), one replica (one Node.js process, which uses one core for evaluation) at concurrency 10 handled:`,
    '',
    `- order-sign with a full prefetch (${(r.inputs.orderSignBytes / 1024).toFixed(0)} KB, ${sign!.cards} cards): **${sign!.service.reqPerSec} req/s**, p50 ${sign!.service.p50} ms, p99 ${sign!.service.p99} ms;`,
    `- patient-view: **${view!.service.reqPerSec} req/s**, p50 ${view!.service.p50} ms, p99 ${view!.service.p99} ms;`,
    `- order-sign fetching everything from a FHIR server that answers in ${r.settings.stubDelayMs} ms: ${fetch!.service.reqPerSec} req/s, p50 ${fetch!.service.p50} ms (the searches add CPU: ${fetch!.service.cpuMsPerRequest!.toFixed(1)} ms per call against ${sign!.service.cpuMsPerRequest!.toFixed(1)} ms with prefetch).`,
    '',
    `A call is CPU-bound: ${sign!.service.cpuMsPerRequest!.toFixed(1)} ms of CPU with full prefetch. Plan a replica at 60 % of one core (the HPA's target), **about ${plan} hook calls per second with prefetch, ${fetchPlan} when the EHR sends none**; there a call waits on average about 1.5 × its own CPU time. Replicas = peak calls per second / that figure, plus one for failures and rollouts (never fewer than two). Of a call's CPU, ${sign!.service.eventLoopMsPerRequest!.toFixed(1)} ms with prefetch and ${fetch!.service.eventLoopMsPerRequest!.toFixed(1)} ms without run on the event loop, which caps one replica at about ${Math.floor(1000 / sign!.service.eventLoopMsPerRequest!)} and ${Math.floor(1000 / fetch!.service.eventLoopMsPerRequest!)} calls per second whatever its CPU; the rest is V8's garbage collection on other threads, which the Deployment's CPU limit (${resources.limits.cpu}) leaves room for. Peak RSS under this load was ${r.service.peakRssMB} MB; the Deployment requests ${resources.requests.memory} and limits ${resources.limits.memory}. Re-run \`npm run bench\` on your hardware before sizing a large site.`,
    CAPACITY_END,
  ];
  writeFileSync(file, text.slice(0, start) + lines.join('\n') + text.slice(end + CAPACITY_END.length));
}
