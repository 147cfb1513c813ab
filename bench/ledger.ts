import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { ROOT, hookBodies } from './chart.js';
import { combine, load, type LoadFigures } from './load.js';
import { cpuMs, drain, exited, launch, stop, waitForLine } from './processes.js';
import { openPglite, openPostgres, type Database } from '../src/stores/postgres/database.js';
import { migrate } from '../src/stores/postgres/migrations.js';
import { SqlCardLedger } from '../src/stores/postgres/card-ledger.js';
import { StoreHealth, noStoreEvents } from '../src/stores/postgres/store-health.js';
import type { CardRecord } from '../src/stores/records.js';
import { runHook, validateCall, type HookOutcome } from '../src/cds/handle-hook.js';
import { orderSign } from '../src/cds/hooks/order-sign.js';
import { cardRecords, silentFirings } from '../src/cds/feedback.js';
import { fhirLimits, testConfig } from '../src/config.js';
import { readRuleset } from '../src/rules/load.js';
import { orderSignBody } from './scale.js';
import { orderSignChart } from './chart.js';

/**
 * What the card ledger costs a hook call: the real app on three stores, loaded alternately in the same
 * run with the same order-sign request — `memory` (nothing written: the reference), `postgres` and
 * `pglite` — as throughput and CPU per request relative to the reference; and the insert cost of the
 * ledger alone (card rows per second in batches). The machine may be shared: compare the ratios of one
 * run, not figures across runs. PostgreSQL: BENCH_DATABASE_URL (default the CI's
 * postgres://postgres@127.0.0.1:5432/test), in a database created for the run and dropped after.
 */

export interface LedgerBenchResults {
  date: string;
  loadAverage: { start: number; end: number };
  settings: { connections: number; durationS: number; rounds: number };
  cardsPerCall: number;
  stores: { store: 'memory' | 'postgres' | 'pglite'; figures: LoadFigures; throughputRatio: number; cpuRatio: number; gaps: number }[];
  insert: { store: 'postgres' | 'pglite'; rows: number; ms: number; rowsPerSecond: number; microsPerRow: number; bytesPerRow: number }[];
  /** In-process CPU of recording a hook call's cards (mapping, queue, batch insert) ÷ CPU of the hook call itself. */
  cpuShare: {
    store: 'postgres' | 'pglite';
    calls: number;
    hookCpuMsPerCall: number;
    ledgerCpuMsPerCall: number;
    /** Of the hook evaluation alone (in-process): an upper bound. */
    share: number;
    /** Of a whole request as the service process serves it (HTTP, body parsing, evaluation; the in-memory server of this run). */
    requestShare: number;
  }[];
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * The ledger's share of a hook call's CPU, in this process: `calls` order-sign evaluations, then the
 * ledger recording their cards (what the route does after answering: map to records, enqueue, batch
 * insert). A replica is CPU-bound, so this share is the throughput the ledger costs it; measured as CPU
 * time of this process it is far less disturbed by other load on the machine than req/s. With
 * PostgreSQL the database server's own CPU is elsewhere; PGlite runs in this process and is counted.
 */
async function cpuShare(db: Database, store: 'postgres' | 'pglite', calls: number): Promise<LedgerBenchResults['cpuShare'][number]> {
  await migrate(db);
  const loaded = await readRuleset(path.join(ROOT, 'rules'));
  if (!loaded.ok) throw new Error('the ruleset does not load');
  const ruleset = loaded.ruleset;
  const body = orderSignBody(ruleset, orderSignChart(), false);
  const limits = fhirLimits(testConfig());
  const evaluate = (): Promise<HookOutcome> =>
    runHook(orderSign, validateCall(orderSign, body), ruleset, { data: { fhirServerAllowlist: [], ...limits }, now: () => new Date(), uuid: () => crypto.randomUUID() });
  // Warm both paths until the JIT has compiled them, as in a replica that has been serving for a while.
  const ledger = new SqlCardLedger(db, { queueMax: 1_000_000, batchMax: 500, flushMs: 60_000 }, noStoreEvents, new StoreHealth());
  const record = (o: HookOutcome) => {
    const ctx = { service: 'inotrope-order-sign', hook: 'order-sign', client: 'https://ehr.example.org', rulesetVersion: ruleset.version, issuedAt: new Date() };
    ledger.enqueue(cardRecords(o.response.cards, ctx), silentFirings(o.fired, ctx));
  };
  for (let i = 0; i < 300; i++) record(await evaluate());
  await ledger.flush();
  // Alternating rounds, so neither side always pays for the other's garbage collection or a busy moment.
  let hookCpu = 0;
  let ledgerCpu = 0;
  const rounds = 5;
  for (let r = 0; r < rounds; r++) {
    const outcomes: HookOutcome[] = [];
    const hookStart = cpuNow();
    for (let i = 0; i < calls / rounds; i++) outcomes.push(await evaluate());
    hookCpu += cpuNow() - hookStart;
    const ledgerStart = cpuNow();
    for (const o of outcomes) record(o);
    await ledger.flush();
    ledgerCpu += cpuNow() - ledgerStart;
  }
  await db.close();
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { store, calls, hookCpuMsPerCall: round(hookCpu / calls), ledgerCpuMsPerCall: round(ledgerCpu / calls), share: round(ledgerCpu / hookCpu), requestShare: NaN };
}

const BEGIN = '<!-- ledger:begin (written by npm run bench:ledger) -->';
const END = '<!-- ledger:end -->';

async function startLedgerServer(kind: string, where: string, allowlist: string): Promise<{ child: ChildProcess; port: number; ledger: Promise<{ gaps: number }> }> {
  const child = launch(process.execPath, ['--import', 'tsx', 'bench/ledger-server.ts', kind, where, allowlist], { NODE_ENV: 'production' });
  const match = await waitForLine(child, /^listening (\d+)$/, 180_000);
  const ledger = waitForLine(child, /^ledger (.*)$/, 24 * 3_600_000).then((m) => JSON.parse(m[1]!) as { gaps: number });
  drain(child);
  return { child, port: Number(match[1]), ledger };
}

async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `inotrope_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Card rows written per second through the ledger's batches (500 a statement), the figure sizing uses. */
async function insertCost(db: Database, store: 'postgres' | 'pglite', rows: number): Promise<LedgerBenchResults['insert'][number]> {
  await migrate(db);
  const ledger = new SqlCardLedger(db, { queueMax: rows, batchMax: 500, flushMs: 60_000 }, noStoreEvents, new StoreHealth());
  const now = new Date();
  const cards: CardRecord[] = Array.from({ length: rows }, (_, i) => ({
    uuid: crypto.randomUUID(),
    ruleId: `RULE-${i % 40}`,
    ruleVersion: '1.0.0',
    also: [],
    rulesetVersion: 'bench',
    service: 'inotrope-order-sign',
    hook: 'order-sign',
    client: 'https://ehr.example.org',
    category: 'dosing',
    indicator: 'warning',
    suggestions: [{ uuid: crypto.randomUUID(), label: 'Reduce milrinone to {{renal-rate.output}} mcg/kg/min' }],
    overrideReasons: ['urn:inotrope-cds:override-reason|benefit-outweighs-risk', 'urn:inotrope-cds:override-reason|already-addressed'],
    issuedAt: now,
  }));
  ledger.enqueue(cards, []);
  const start = performance.now();
  await ledger.flush();
  const ms = performance.now() - start;
  // Table and its indexes on disk, per card row: the figure for sizing the volume.
  const [size] = await db.query<{ bytes: number }>("select pg_total_relation_size('issued_cards')::float8 as bytes");
  await db.close();
  return {
    store,
    rows,
    ms: Math.round(ms),
    rowsPerSecond: Math.round((rows / ms) * 1000),
    microsPerRow: Math.round((ms / rows) * 1000 * 10) / 10,
    bytesPerRow: Math.round(size!.bytes / rows),
  };
}

export async function runLedgerBench(options: { stubPort: number; connections: number; durationS: number; rounds: number }): Promise<LedgerBenchResults> {
  const loadStart = Math.round(os.loadavg()[0]! * 100) / 100;
  const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const database = await createDatabase(adminUrl);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-pglite-'));
  const allowlist = `http://127.0.0.1:${options.stubPort}/fhir`;
  const servers: Record<'memory' | 'postgres' | 'pglite', Awaited<ReturnType<typeof startLedgerServer>>> = {
    memory: await startLedgerServer('memory', '-', allowlist),
    postgres: await startLedgerServer('postgres', database.url, allowlist),
    pglite: await startLedgerServer('pglite', dataDir, allowlist),
  };
  try {
    const discovery = (await (await fetch(`http://127.0.0.1:${servers.memory.port}/cds-services`)).json()) as Parameters<typeof hookBodies>[0];
    const body = JSON.stringify(hookBodies(discovery, allowlist).orderSign.body);
    const first = (await (
      await fetch(`http://127.0.0.1:${servers.memory.port}/cds-services/inotrope-order-sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    ).json()) as { cards: unknown[] };
    const order = ['memory', 'postgres', 'pglite'] as const;
    const runs: Record<(typeof order)[number], LoadFigures[]> = { memory: [], postgres: [], pglite: [] };
    const target = (kind: (typeof order)[number], durationS: number) => ({
      url: `http://127.0.0.1:${servers[kind].port}/cds-services/inotrope-order-sign`,
      body,
      connections: options.connections,
      durationS,
    });
    for (const kind of order) await load(target(kind, 2));
    for (let round = 0; round < options.rounds; round++) {
      // Rotate who goes first, so no store always runs on a warmer (or busier) machine.
      for (const kind of [...order.slice(round % 3), ...order.slice(0, round % 3)]) {
        const pid = servers[kind].child.pid!;
        const cpuBefore = cpuMs(pid);
        const figures = await load(target(kind, options.durationS));
        figures.cpuMsPerRequest = Math.round(((cpuMs(pid) - cpuBefore) / figures.requests) * 1000) / 1000;
        runs[kind].push(figures);
        console.log(`  ${kind.padEnd(8)} ${String(figures.reqPerSec).padStart(6)} req/s  p50 ${figures.p50} ms  p99 ${figures.p99} ms  ${figures.cpuMsPerRequest.toFixed(2)} CPU ms/request`);
      }
    }
    const gaps: Record<string, number> = {};
    for (const kind of order) {
      const done = exited(servers[kind].child, 60_000);
      stop(servers[kind].child);
      gaps[kind] = (await servers[kind].ledger).gaps;
      await done;
    }
    const reference = combine(runs.memory);
    const stores = order.map((store) => {
      const figures = combine(runs[store]);
      return {
        store,
        figures,
        throughputRatio: Math.round((figures.reqPerSec / reference.reqPerSec) * 1000) / 1000,
        cpuRatio: Math.round((reference.cpuMsPerRequest! / figures.cpuMsPerRequest!) * 1000) / 1000,
        gaps: gaps[store]!,
      };
    });
    const insert = [
      await insertCost(openPostgres(database.url, 2), 'postgres', 20_000),
      await insertCost(await openPglite(path.join(dataDir, 'insert')), 'pglite', 20_000),
    ];
    const share = [
      await cpuShare(openPostgres(database.url, 2), 'postgres', 1000),
      await cpuShare(await openPglite(path.join(dataDir, 'share')), 'pglite', 1000),
    ].map((c) => ({ ...c, requestShare: Math.round((c.ledgerCpuMsPerCall / reference.cpuMsPerRequest!) * 1000) / 1000 }));
    return {
      date: new Date().toISOString(),
      loadAverage: { start: loadStart, end: Math.round(os.loadavg()[0]! * 100) / 100 },
      settings: { connections: options.connections, durationS: options.durationS, rounds: options.rounds },
      cardsPerCall: first.cards.length,
      stores,
      insert,
      cpuShare: share,
    };
  } finally {
    for (const s of Object.values(servers)) if (s.child.exitCode === null) stop(s.child);
    await database.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function printLedger(r: LedgerBenchResults): void {
  console.log(`\nCard ledger (order-sign with prefetch, ${r.cardsPerCall} cards a call; ratios against the in-memory store in this run):`);
  for (const s of r.stores) {
    console.log(`  ${s.store.padEnd(8)} ${String(s.figures.reqPerSec).padStart(6)} req/s  throughput ×${s.throughputRatio.toFixed(3)}  CPU ×${s.cpuRatio.toFixed(3)}  ledger gaps ${s.gaps}`);
  }
  for (const i of r.insert) console.log(`  insert ${i.store.padEnd(8)} ${i.rows} rows in ${i.ms} ms: ${i.rowsPerSecond} rows/s (${i.microsPerRow} µs a row, ${i.bytesPerRow} bytes a row with indexes)`);
  for (const c of r.cpuShare) {
    console.log(
      `  CPU share ${c.store.padEnd(8)} ${c.ledgerCpuMsPerCall} ms of ledger a call: ${(c.requestShare * 100).toFixed(1)} % of a request as served, ${(c.share * 100).toFixed(1)} % of the evaluation alone (${c.hookCpuMsPerCall} ms)${c.store === 'postgres' ? ` — target < 5 % of throughput: ${c.requestShare < 0.05 ? 'met' : 'NOT met'}` : ''}`,
    );
  }
}

/** Rewrites the card-ledger block of docs/performance.md. */
export function writeLedgerDoc(r: LedgerBenchResults, resultFile: string): void {
  const file = path.join(ROOT, 'docs/performance.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md has no ${BEGIN} … ${END} block`);
  const cost = (s: LedgerBenchResults['stores'][number]) => `${(Math.max(0, 1 - s.throughputRatio) * 100).toFixed(1)} %`;
  const lines = [
    BEGIN,
    '',
    `Latest run: ${r.date}, 1-minute load average ${r.loadAverage.start} at start and ${r.loadAverage.end} at the end (a shared, loaded machine: the absolute figures move with the load; the ratios, measured alternately in the same run, are what to read). Results in \`${path.relative(ROOT, resultFile)}\`. Order-sign with a full prefetch (${r.cardsPerCall} cards a call), concurrency ${r.settings.connections}, ${r.settings.rounds} rounds of ${r.settings.durationS} s per store, rotating which store goes first.`,
    '',
    '| Store | req/s | p50 ms | p99 ms | CPU ms/req | Throughput vs memory | Throughput cost | CPU ratio | Ledger gaps |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.stores.map(
      (s) =>
        `| ${s.store} | ${s.figures.reqPerSec} | ${s.figures.p50} | ${s.figures.p99} | ${s.figures.cpuMsPerRequest} | ${s.throughputRatio.toFixed(3)} | ${s.store === 'memory' ? '—' : cost(s)} | ${s.cpuRatio.toFixed(3)} | ${s.gaps} |`,
    ),
    '',
    'CPU share — the CPU of recording a hook call\'s cards (map to records, queue, batch insert), measured in one process over many calls (five rounds alternating with the evaluations, after a warm-up), ÷ the CPU of a whole request as the in-memory server of this run served it (HTTP, body parsing, evaluation, answer). A replica is CPU-bound, so this share is the throughput the ledger costs it; CPU time is far less disturbed by other load than req/s. The share of the evaluation alone (in-process, no HTTP) is an upper bound. With PostgreSQL the database server\'s CPU is elsewhere; PGlite runs inside the service and is counted. Target: under 5 % of throughput with PostgreSQL.',
    '',
    '| CPU share | hook calls | ledger CPU ms a call | of a request as served | evaluation CPU ms a call | of the evaluation alone | target |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...r.cpuShare.map(
      (c) =>
        `| ${c.store} | ${c.calls} | ${c.ledgerCpuMsPerCall} | ${(c.requestShare * 100).toFixed(1)} % | ${c.hookCpuMsPerCall} | ${(c.share * 100).toFixed(1)} % | ${c.store === 'postgres' ? (c.requestShare < 0.05 ? '< 5 %: met' : '< 5 %: **not met**') : 'stated'} |`,
    ),
    '',
    '| Insert cost | rows | ms | rows/s | µs a row | bytes a row (table + indexes) |',
    '|---|---:|---:|---:|---:|---:|',
    ...r.insert.map((i) => `| ${i.store} | ${i.rows} | ${i.ms} | ${i.rowsPerSecond} | ${i.microsPerRow} | ${i.bytesPerRow} |`),
    '',
    END,
  ];
  writeFileSync(file, text.slice(0, start) + lines.join('\n') + text.slice(end + END.length));
}

/** `npm run bench:ledger`: only this part (it starts its own FHIR stub). */
export async function ledgerOnly(startStub: () => Promise<{ port: number; child: ChildProcess }>): Promise<void> {
  const stub = await startStub();
  try {
    const r = await runLedgerBench({
      stubPort: stub.port,
      connections: 10,
      durationS: Number(process.env.BENCH_DURATION_S ?? 8),
      rounds: Number(process.env.BENCH_ROUNDS ?? 3),
    });
    printLedger(r);
    const file = path.join(ROOT, 'bench/results', `ledger-${r.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(path.join(ROOT, 'bench/results/ledger-latest.json'), `${JSON.stringify(r, null, 2)}\n`);
    writeLedgerDoc(r, file);
  } finally {
    stop(stub.child);
  }
}

