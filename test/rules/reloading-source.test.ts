import { cp, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import request from 'supertest';
import { testConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { memoryStores } from '../../src/stores/memory/index.js';
import { createLogger } from '../../src/logger.js';
import { ReloadingRulesetSource, type ReloadEvent } from '../../src/rules/reloading-source.js';
import { logCapture } from '../helpers.js';
import { copyFixture } from './fixture-dir.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- tests edit rule files as untyped JSON */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function startSource(watch: boolean) {
  const fixture = await copyFixture();
  const capture = logCapture();
  const events: ReloadEvent[] = [];
  const created = await ReloadingRulesetSource.create({
    dir: fixture.dir,
    logger: createLogger({ LOG_LEVEL: 'info' }, capture.stream),
    watch,
    debounceMs: 50,
    onReload: (e) => events.push(e),
  });
  if (!created.ok) throw new Error('fixture should load');
  cleanups.push(() => created.source.close(), fixture.remove);
  return { fixture, source: created.source, logs: capture.lines, events };
}

const retitle = (summary: string) => (j: any) => {
  j.rules[1].card.summary = summary;
};

describe('hot reload', () => {
  it('swaps in a valid ruleset on reload and keeps serving the old one when the new one has errors', async () => {
    const { fixture, source, logs, events } = await startSource(false);
    const first = source.current();

    await fixture.edit('rules/rules.json', retitle('Heart failure not documented'));
    await source.reload('SIGHUP');
    const second = source.current();
    expect(second.version).not.toBe(first.version);
    expect(source.status()).toEqual({ version: second.version, loadedAt: second.loadedAt });
    expect(events.at(-1)).toMatchObject({ ok: true, version: second.version, changed: true });

    await fixture.edit('rules/rules.json', (j) => {
      j.rules[0].conditions.all[0].operator = 'lessThen';
    });
    await source.reload('SIGHUP');
    expect(source.current()).toBe(second);
    expect(source.status().lastError).toMatch(/^1 error; still serving [0-9a-f]{12}: rules\/rules\.json#\/rules\/0\/conditions\/all\/0\/operator: unknown operator "lessThen"/);
    expect(events.at(-1)).toMatchObject({ ok: false, serving: second.version });
    // The console's ruleset page lists the refused reload's errors with file and pointer.
    expect(source.refusedReload()).toEqual({
      at: expect.any(String),
      errors: [{ file: 'rules/rules.json', pointer: '/rules/0/conditions/all/0/operator', message: expect.stringContaining('unknown operator "lessThen"') }],
    });
    const refused = logs.map((l) => JSON.parse(l)).find((l) => l.msg.startsWith('ruleset reload refused'));
    expect(refused).toMatchObject({ level: 50, serving: second.version, errorCount: 1 });

    await fixture.edit('rules/rules.json', (j) => {
      j.rules[0].conditions.all[0].operator = 'lessThan';
    });
    await source.reload('SIGHUP');
    expect(source.status().lastError).toBeUndefined();
    expect(source.refusedReload()).toBeUndefined();
  });

  it('refuses a reloaded ruleset whose scenarios fail (verify), keeping the old one serving', async () => {
    const fixture = await copyFixture();
    const capture = logCapture();
    const created = await ReloadingRulesetSource.create({
      dir: fixture.dir,
      logger: createLogger({ LOG_LEVEL: 'info' }, capture.stream),
      watch: false,
      verify: async (ruleset) => ((ruleset.documents?.rules ?? []).some((f) => f.content.rules.some((r) => r.card.summary === 'Broken on purpose')) ? [{ file: 'tests/hf.json', pointer: '/scenarios/0', message: 'scenario "HF" fails: T-NO-HF did not fire' }] : []),
    });
    if (!created.ok) throw new Error('fixture should load');
    cleanups.push(() => created.source.close(), fixture.remove);
    const first = created.source.current().version;
    await fixture.edit('rules/rules.json', retitle('Broken on purpose'));
    await created.source.reload('SIGHUP');
    expect(created.source.current().version).toBe(first);
    expect(created.source.status().lastError).toContain('tests/hf.json#/scenarios/0: scenario "HF" fails: T-NO-HF did not fire');
    await fixture.edit('rules/rules.json', retitle('Fine'));
    await created.source.reload('SIGHUP');
    expect(created.source.current().version).not.toBe(first);
  });

  it('picks up a file change without a restart, and /readyz shows a refused reload', async () => {
    const { fixture, source, events } = await startSource(true);
    const app = createApp({ config: testConfig(), logger: createLogger({ LOG_LEVEL: 'silent' }), rules: source, stores: memoryStores(testConfig()) });
    const before = source.current().version;

    await fixture.edit('rules/rules.json', retitle('Changed on disk'));
    await vi.waitFor(() => expect(source.current().version).not.toBe(before), { timeout: 5_000, interval: 50 });
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body.ruleset).toMatchObject({ version: source.current().version, rules: { active: 6, silent: 1, retired: 1 } });

    await fixture.write('rules/rules.json', '{ "rules": [');
    await vi.waitFor(() => expect(events.at(-1)?.ok).toBe(false), { timeout: 5_000, interval: 50 });
    // Still ready (the previous ruleset serves); why it was refused is for the log, not for anyone who can reach /readyz.
    const refused = await request(app).get('/readyz').expect(200);
    expect(refused.body).toMatchObject({ status: 'ready', reload: 'refused', ruleset: { version: ready.body.ruleset.version } });
    expect(JSON.stringify(refused.body)).not.toMatch(/rules\.json|not valid JSON|\//);
  });

  it('a scenario file or schema change does not reload the ruleset', async () => {
    const { fixture, events } = await startSource(true);
    await mkdir(`${fixture.dir}/tests`, { recursive: true });
    await fixture.write('tests/new.json', '{}');
    await new Promise((r) => setTimeout(r, 400));
    expect(events).toEqual([]);
  });

  it('picks up a Kubernetes ConfigMap update (the ..data symlink swapped atomically)', async () => {
    const mount = await mkdtemp(path.join(tmpdir(), 'inotrope-configmap-'));
    cleanups.push(() => rm(mount, { recursive: true, force: true }));
    await cp('test/fixtures/rules', path.join(mount, '..v1'), { recursive: true });
    await symlink('..v1', path.join(mount, '..data'));
    for (const entry of ['settings.json', 'rules', 'value-sets', 'thresholds']) await symlink(`..data/${entry}`, path.join(mount, entry));
    const events: ReloadEvent[] = [];
    const created = await ReloadingRulesetSource.create({ dir: mount, logger: createLogger({ LOG_LEVEL: 'silent' }), watch: true, debounceMs: 50, onReload: (e) => events.push(e) });
    if (!created.ok) throw new Error('fixture should load');
    cleanups.push(() => created.source.close());
    const before = created.source.current().version;

    await cp(path.join(mount, '..v1'), path.join(mount, '..v2'), { recursive: true });
    const file = path.join(mount, '..v2/rules/rules.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('No heart failure documented', 'No HF documented'));
    await symlink('..v2', path.join(mount, '..data_tmp'));
    await rename(path.join(mount, '..data_tmp'), path.join(mount, '..data'));
    await rm(path.join(mount, '..v1'), { recursive: true });

    await vi.waitFor(() => expect(created.source.current().version).not.toBe(before), { timeout: 5_000, interval: 50 });
    expect(events.at(-1)).toMatchObject({ ok: true, changed: true });
  });
});
