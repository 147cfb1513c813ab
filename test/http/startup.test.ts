import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { staleReason } from '../../scripts/build-if-stale.js';
import { killAll, listening, startService } from '../stores/service-process.js';

/* The real entry point in a child process: one exit code per kind of start-up failure, the authentication
   line operators read first, and `npm start` letting a SIGTERM reach node. */

afterEach(killAll);

const tmp = (name: string) => mkdtempSync(path.join(tmpdir(), `inotrope-${name}-`));
const embedded = () => ({ DATABASE_URL: '', DATA_DIR: path.join(tmp('startup'), 'data') });

/** A clients file trusting one EHR, with an inline public key. */
function clientsFile(): string {
  const file = path.join(tmp('clients'), 'clients.json');
  const key = { kty: 'EC', kid: 'k1', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
  writeFileSync(file, JSON.stringify({ clients: [{ iss: 'https://ehr.example.org', jwks: { keys: [key] }, fhirServers: ['https://fhir.example.org/r4'] }] }));
  return file;
}

describe('start-up exit codes: 78 (EX_CONFIG) for configuration errors', () => {
  it('an invalid environment variable', async () => {
    const service = startService({ CDS_AUTH: 'off', PORT: 'eighty', ...embedded() });
    expect(await service.exited).toBe(78);
    expect(service.stderr.join('\n')).toContain('PORT:');
  }, 60_000);

  it('a DISPLAY_TIME_ZONE that is not a time zone', async () => {
    const service = startService({ CDS_AUTH: 'off', DISPLAY_TIME_ZONE: 'Mars/Olympus_Mons', ...embedded() });
    expect(await service.exited).toBe(78);
    expect(service.stderr.join('\n')).toContain('DISPLAY_TIME_ZONE:');
  }, 60_000);

  it('a clients file that cannot be read', async () => {
    const missing = path.join(tmp('clients'), 'nowhere.json');
    const service = startService({ CDS_AUTH: 'on', PUBLIC_BASE_URL: 'https://cds.example.org', CDS_CLIENTS_FILE: missing, ...embedded() });
    expect(await service.exited).toBe(78);
    expect(service.stderr.join('\n')).toContain(`CDS_CLIENTS_FILE ${missing} cannot be read (ENOENT)`);
  }, 180_000);

  it('a ruleset with errors', async () => {
    const rules = tmp('rules');
    writeFileSync(path.join(rules, 'settings.json'), '{');
    const service = startService({ CDS_AUTH: 'off', RULES_DIR: rules, ...embedded() });
    expect(await service.exited).toBe(78);
    expect(service.stderr.join('\n')).toMatch(/The ruleset in .* has \d+ error\(s\); not starting:/);
  }, 60_000);

  it('a data directory that cannot be written', async () => {
    const file = path.join(tmp('data'), 'a-file');
    writeFileSync(file, '');
    const service = startService({ CDS_AUTH: 'off', DATABASE_URL: '', DATA_DIR: path.join(file, 'data') });
    expect(await service.exited).toBe(78);
    expect(service.stderr.join('\n')).toMatch(/DATA_DIR .* is not a writable directory \(ENOTDIR\)/);
  }, 60_000);
});

describe('start-up exit code 1 for anything that is not configuration', () => {
  it('a port another process holds', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = holder.address() as AddressInfo;
      const service = startService({ CDS_AUTH: 'off', HOST: '127.0.0.1', PORT: String(port), ...embedded() });
      expect(await service.exited).toBe(1);
    } finally {
      holder.close();
    }
  }, 60_000);
});

describe('start-up log', () => {
  it('says that authentication is on, how many clients are trusted and the aud base', async () => {
    const service = startService({ CDS_AUTH: 'on', PUBLIC_BASE_URL: 'https://cds.example.org/', CDS_CLIENTS_FILE: clientsFile(), ...embedded() });
    await listening(service);
    expect(service.lines.find((l) => l.auth !== undefined)).toMatchObject({ auth: 'on', trustedClients: 1, audBase: 'https://cds.example.org/cds-services' });
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  }, 300_000);
});

describe('npm start', () => {
  it('builds only when a build input is newer than the build', () => {
    const root = tmp('build');
    for (const dir of ['src', 'console', 'dist/src', 'dist/console']) mkdirSync(path.join(root, dir), { recursive: true });
    writeFileSync(path.join(root, 'src/main.ts'), '');
    expect(staleReason(root)).toBe('dist/src/main.js, dist/console/index.html missing');
    const at = (file: string, seconds: number) => utimesSync(path.join(root, file), seconds, seconds);
    writeFileSync(path.join(root, 'dist/src/main.js'), '');
    writeFileSync(path.join(root, 'dist/console/index.html'), '');
    for (const f of ['src/main.ts', 'src', 'console']) at(f, 1000);
    at('dist/src/main.js', 2000);
    at('dist/console/index.html', 2000);
    expect(staleReason(root)).toBeUndefined();
    at('src/main.ts', 3000);
    expect(staleReason(root)).toBe('changed since the last build: src');
  });

  it('lets a SIGTERM sent to npm reach node, which shuts down and leaves no process behind', async () => {
    const child = spawn('npm', ['start', '--silent'], {
      env: { ...process.env, CDS_AUTH: 'off', PORT: '0', RULES_WATCH: 'off', LOG_LEVEL: 'info', ...embedded() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: Record<string, unknown>[] = [];
    child.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // The first run after a change builds (tens of seconds on a loaded machine), then the embedded database opens.
      await vi.waitFor(() => expect(logs.some((l) => l.msg === 'listening')).toBe(true), { timeout: 280_000, interval: 200 });
      child.kill('SIGTERM');
      await exited;
      // 'stopped' is node's own graceful-shutdown line: the signal reached it rather than only npm's shell.
      await vi.waitFor(() => expect(logs.map((l) => l.msg)).toContain('stopped'), { timeout: 15_000, interval: 100 });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 300_000);
});
