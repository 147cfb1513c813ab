import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/commands.js';
import { createTestDatabase, TEST_DATABASE_URL } from '../stores/databases.js';

async function cli(env: Record<string, string>, ...argv: string[]) {
  const saved = { DATA_DIR: process.env.DATA_DIR, DATABASE_URL: process.env.DATABASE_URL };
  delete process.env.DATABASE_URL;
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('inotrope-cds db (embedded database in DATA_DIR)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'inotrope-db-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Each command opens the embedded database (seconds on a loaded machine; the first creates it).
  it('migrate applies the schema; status then reports nothing pending', async () => {
    const first = await cli({ DATA_DIR: dir }, 'db', 'migrate');
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(/applied 1; schema now at version 1$/);
    const status = await cli({ DATA_DIR: dir }, 'db', 'status');
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/schema version 1; this release knows version 1\n {2}applied {2}1 {2}card ledger/);
  }, 300_000);

  it('refuses (exit 78) while another live process holds the data directory', async () => {
    await writeFile(path.join(dir, 'inotrope-cds.lock'), `${process.ppid} ${hostname()}`);
    try {
      const { code, err } = await cli({ DATA_DIR: dir }, 'db', 'status');
      expect(code).toBe(78);
      expect(err).toContain(`is in use by process ${process.ppid}`);
      expect(err).toContain('PGlite allows one process at a time');
    } finally {
      await rm(path.join(dir, 'inotrope-cds.lock'), { force: true });
    }
  });

  it('refuses (exit 78) a DATA_DIR that cannot be written', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, '');
    const { code, err } = await cli({ DATA_DIR: path.join(file, 'data') }, 'db', 'migrate');
    expect(code).toBe(78);
    expect(err).toMatch(/DATA_DIR .*a-file\/data is not a writable directory \(ENOTDIR\)/);
  });
});

describe.runIf(TEST_DATABASE_URL)('inotrope-cds db (DATABASE_URL)', () => {
  it('reports pending migrations (exit 1), applies them, then reports none', async () => {
    const fresh = await createTestDatabase();
    try {
      const before = await cli({ DATABASE_URL: fresh.url }, 'db', 'status');
      expect(before.code).toBe(1);
      expect(before.out).toMatch(/schema version 0; this release knows version 1\n {2}pending {2}1 /);
      expect((await cli({ DATABASE_URL: fresh.url }, 'db', 'migrate')).out).toMatch(/applied 1; schema now at version 1$/);
      expect((await cli({ DATABASE_URL: fresh.url }, 'db', 'migrate')).out).toMatch(/schema at version 1, nothing to apply$/);
      expect((await cli({ DATABASE_URL: fresh.url }, 'db', 'status')).code).toBe(0);
    } finally {
      await fresh.drop();
    }
  });
});
