import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { copyFixture } from './fixture-dir.js';

/* The real entry point (src/main.ts) in a child process: refuses an invalid ruleset, reloads on SIGHUP. */

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const c of cleanups.splice(0)) await c();
});

function start(rulesDir: string): { child: ChildProcess; stdout: string[]; stderr: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    // The embedded database in a directory of its own (it holds one process at a time).
    env: { ...process.env, CDS_AUTH: 'off', PORT: '0', RULES_DIR: rulesDir, RULES_WATCH: 'off', LOG_LEVEL: 'info', DATA_DIR: path.join(rulesDir, 'data'), DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.on('data', (d: Buffer) => stdout.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => stderr.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

describe('service start-up with a ruleset', () => {
  it('refuses to start on an invalid ruleset (exit 78, a configuration error), printing every error', async () => {
    const fixture = await copyFixture();
    cleanups.push(fixture.remove);
    await fixture.edit('rules/rules.json', (j) => {
      j.rules[0].conditions.all[0].operator = 'lessThen';
      j.rules[1].card.summary = '{{nothing}}';
    });
    const { stderr, exited } = start(fixture.dir);
    expect(await exited).toBe(78);
    expect(stderr).toContain(`The ruleset in ${fixture.dir} has 2 error(s); not starting:`);
    expect(stderr).toContain('  rules/rules.json#/rules/0/conditions/all/0/operator: unknown operator "lessThen" (did you mean "lessThan"?)');
  });

  it('serves, then reloads on SIGHUP: a valid change is taken, a broken one refused while the old one serves', async () => {
    const fixture = await copyFixture();
    cleanups.push(fixture.remove);
    const { child, stdout } = start(fixture.dir);
    const logs = () => stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    // Start-up opens and migrates the embedded database first: seconds on a loaded machine.
    await vi.waitFor(() => expect(logs().some((l) => l.msg === 'listening')).toBe(true), { timeout: 180_000, interval: 100 });
    const listening = logs().find((l) => l.msg === 'listening')!;
    const readyz = async () => (await (await fetch(`http://127.0.0.1:${String(listening.port)}/readyz`)).json()) as { ruleset: { version: string }; reload: string };
    const first = (await readyz()).ruleset.version;

    await fixture.edit('rules/rules.json', (j) => {
      j.rules[1].card.summary = 'Heart failure not documented';
    });
    child.kill('SIGHUP');
    await vi.waitFor(async () => expect((await readyz()).ruleset.version).not.toBe(first), { timeout: 10_000, interval: 100 });
    const second = (await readyz()).ruleset.version;

    await fixture.write('rules/rules.json', '{');
    child.kill('SIGHUP');
    await vi.waitFor(async () => expect((await readyz()).reload).toBe('refused'), { timeout: 10_000, interval: 100 });
    expect((await readyz()).ruleset.version).toBe(second);
    expect(logs().map((l) => l.msg)).toEqual(expect.arrayContaining(['ruleset reloaded', 'ruleset reload refused: the new ruleset has errors, the previous one keeps serving']));
    // The reason (file and message) is in the log, for operators; /readyz only says `refused`.
    expect(String(logs().find((l) => String(l.msg).startsWith('ruleset reload refused'))?.errors)).toMatch(/rules\/rules\.json: is not valid JSON/);
  }, 300_000);
});
